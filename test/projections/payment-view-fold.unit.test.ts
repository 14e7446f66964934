import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PaymentView } from '../../src/application/payments/payment-view.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import type { PaymentEvent } from '../../src/domain/payment/index.js';
import { foldBatch, nextPaymentView } from '../../src/projections/payments/payments-projection.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import { authorized, canceled, captured } from '../domain/fixtures.js';
import { batchSizesArb, cutIntoBatches, expectedView, runSteps, scenarioIds, stepsArb } from './support/payment-scenarios.js';

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

/**
 * The table, in memory: each batch starts from the stored rows of the payments it names
 * and writes back what it changed, only forward (the upsert's `revision <` guard).
 */
function applyInBatches(table: Map<string, PaymentView>, log: readonly RecordedEvent[], sizes: readonly number[]) {
  const changes = [];
  for (const batch of cutIntoBatches(log, sizes)) {
    const named = new Set(batch.map((e) => (e.data as { paymentId: string }).paymentId));
    const stored = [...table.values()].filter((v) => named.has(v.id));
    const folded = foldBatch(stored, batch);
    for (const row of folded.rows) {
      const before = table.get(row.id);
      if (!before || BigInt(before.revision) < BigInt(row.revision)) table.set(row.id, row);
    }
    changes.push(...folded.changes);
  }
  return changes;
}

describe('payments read model fold', () => {
  it('equals the aggregate fold, shown, for any commands and any cut into batches, announcing each event once', () => {
    fc.assert(
      fc.property(stepsArb, batchSizesArb, (steps, sizes) => {
        const { log, streams } = runSteps(steps, scenarioIds());
        const table = new Map<string, PaymentView>();
        const changes = applyInBatches(table, log, sizes);

        expect(table.size).toBe(streams.length);
        for (const stream of streams) expect(table.get(stream.paymentId)).toEqual(expectedView(stream));
        expect(changes.map((c) => c.position)).toEqual(log.map((e) => e.position));
        for (const stream of streams) {
          const mine = changes.filter((c) => (c.data as PaymentView).id === stream.paymentId);
          expect(mine.map((c) => c.type)).toEqual(stream.events.map((_, i) => (i === 0 ? 'payment.created' : 'payment.updated')));
          expect(mine.at(-1)?.data).toEqual(expectedView(stream));
          expect(mine[0]?.topics).toEqual([`payment:${stream.paymentId}`, `customer:${expectedView(stream).customerId}`]);
        }
      }),
    );
  });

  it('applying events it already has changes nothing and announces nothing, from any earlier point', () => {
    fc.assert(
      fc.property(stepsArb, batchSizesArb, fc.nat(), fc.nat(), (steps, sizes, a, b) => {
        const { log, streams } = runSteps(steps, scenarioIds());
        // Applied up to `applied`, then redelivered from `from` (at or before it): an overlap.
        const applied = a % (log.length + 1);
        const from = b % (applied + 1);
        const table = new Map<string, PaymentView>();
        applyInBatches(table, log.slice(0, applied), sizes);
        const snapshot = new Map(table);
        const replayed = applyInBatches(table, log.slice(from, applied), sizes);
        expect(replayed).toEqual([]);
        expect(table).toEqual(snapshot);

        const rest = applyInBatches(table, log.slice(from), sizes);
        expect(rest.map((c) => c.position)).toEqual(log.slice(applied).map((e) => e.position));
        for (const stream of streams) expect(table.get(stream.paymentId)).toEqual(expectedView(stream));
        expect(applyInBatches(table, log, sizes)).toEqual([]);
      }),
    );
  });

  it('event by event (the single-event path) agrees with the batch', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { log, streams } = runSteps(steps, scenarioIds());
        const views = new Map<string, PaymentView>();
        for (const event of log) {
          const id = (event.data as { paymentId: string }).paymentId;
          const next = nextPaymentView(views.get(id), event);
          expect(next).toBeDefined();
          if (next) views.set(id, next);
        }
        for (const stream of streams) expect(views.get(stream.paymentId)).toEqual(expectedView(stream));
      }),
    );
  });

  it('ignores an event it already has (replay) and refuses an update for an unknown payment', () => {
    const [a, c] = recorded([authorized(), captured(100, 9_900)]) as [RecordedEvent, RecordedEvent];
    const afterCapture = nextPaymentView(nextPaymentView(undefined, a), c);
    expect(nextPaymentView(afterCapture, c)).toBeUndefined();
    expect(nextPaymentView(afterCapture, a)).toBeUndefined();
    expect(() => nextPaymentView(undefined, c)).toThrow(ProjectionEventError);
    expect(() => nextPaymentView(undefined, c)).toThrow(/is not in the read model/);
  });

  it('stops at the event that cannot apply, naming it: a second creation, more than was authorized, an unreadable event', () => {
    const [a, , third] = recorded([authorized(), captured(100, 9_900), authorized()]) as [RecordedEvent, RecordedEvent, RecordedEvent];
    const created = nextPaymentView(undefined, a);
    const again = (): unknown => foldBatch(created ? [created] : [], [third]);
    expect(again).toThrow(ProjectionEventError);
    expect(again).toThrow(/already exists/);
    try {
      again();
    } catch (error) {
      expect((error as ProjectionEventError).event).toBe(third);
    }

    const [, over] = recorded([authorized(), captured(10_000, 1)]) as [RecordedEvent, RecordedEvent];
    expect(() => foldBatch(created ? [created] : [], [over])).toThrow(/would exceed the amount 10000/);

    const [, cancel] = recorded([authorized(), canceled()]) as [RecordedEvent, RecordedEvent];
    const unreadable: RecordedEvent = { ...cancel, data: { ...(cancel.data as object), paymentId: 'not-a-payment' } };
    const batch = [cancel, unreadable];
    try {
      foldBatch(created ? [created] : [], batch);
      expect.unreachable('an unreadable event must stop the fold');
    } catch (error) {
      expect(error).toBeInstanceOf(ProjectionEventError);
      expect((error as ProjectionEventError).event).toBe(unreadable);
    }
  });
});
