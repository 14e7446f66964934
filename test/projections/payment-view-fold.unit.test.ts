import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { fold } from '../../src/domain/payment/index.js';
import type { PaymentEvent } from '../../src/domain/payment/index.js';
import { nextPaymentView } from '../../src/projections/payments/payments-projection.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import { authorized, canceled, captured, failed } from '../domain/fixtures.js';

const recorded = (events: PaymentEvent[]): RecordedEvent[] =>
  events.map((e, i) => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    type: e.type,
    streamId: 'payment-x',
    revision: streamRevision(i),
    position: position(BigInt(i + 1), BigInt(i + 1)),
    data: e.data,
    metadata: { correlationId: 'c', causationId: null, actor: 't', occurredAt: `2026-01-0${i + 1}T00:00:00.000Z`, schemaVersion: 1 },
    recordedAt: new Date(),
  }));

const viewAfter = (events: RecordedEvent[]) => events.reduce((v, e) => nextPaymentView(v, e) ?? v, undefined as ReturnType<typeof nextPaymentView>);

describe('payments read model fold', () => {
  it.each([
    ['partial capture', [authorized(), captured(2_500, 7_500)]],
    ['cancel', [authorized(), canceled()]],
    ['decline', [failed()]],
  ] as const)('agrees with the aggregate after a %s', (_name, events) => {
    const view = viewAfter(recorded([...events]));
    const state = fold([...events]);
    if (!state.exists) throw new Error('no state');
    expect(view).toMatchObject({
      status: state.status,
      amount: state.amount,
      amountCaptured: state.amountCaptured,
      amountReleased: state.amountReleased,
      amountCapturable: state.amountCapturable,
      revision: String(events.length - 1),
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('ignores an event it already has (replay) and refuses an update for an unknown payment', () => {
    const [a, c] = recorded([authorized(), captured(100, 9_900)]) as [RecordedEvent, RecordedEvent];
    const afterCapture = nextPaymentView(nextPaymentView(undefined, a), c);
    expect(nextPaymentView(afterCapture, c)).toBeUndefined();
    expect(nextPaymentView(afterCapture, a)).toBeUndefined();
    expect(() => nextPaymentView(undefined, c)).toThrow(ProjectionEventError);
  });
});
