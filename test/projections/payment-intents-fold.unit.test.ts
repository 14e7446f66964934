import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { foldPaymentIntents } from '../../src/projections/payment-intents/payment-intents-projection.js';
import { isRetryableOutcome, problemForCommandError } from '../../src/infrastructure/http/command-error-problems.js';

let n = 0;
const event = (type: string, paymentId: string): RecordedEvent => {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    streamId: `payment-${paymentId}`,
    revision: streamRevision(0),
    position: position(BigInt(n), BigInt(n)),
    data: { paymentId },
    metadata: { correlationId: 'c', causationId: null, actor: 't', occurredAt: `2026-01-01T00:00:0${n % 10}.000Z`, schemaVersion: 1 },
    recordedAt: new Date(0),
  };
};

describe('the payment_intents fold', () => {
  it('a request opens its payment, any outcome closes it, in log order within a batch', () => {
    const a1 = event('PaymentRequested', 'pay_a');
    const b1 = event('PaymentCaptureRequested', 'pay_b');
    const { deletes, upserts } = foldPaymentIntents([a1, b1, event('PaymentAuthorized', 'pay_a'), event('PaymentCaptured', 'pay_c')]);
    expect(upserts).toEqual([{ payment_id: 'pay_b', request_event_id: b1.id, operation: 'capture', at: b1.metadata.occurredAt }]);
    expect(deletes.sort()).toEqual(['pay_a', 'pay_c']);
  });

  it('a later request of the same payment replaces the answered one', () => {
    const cancel = event('PaymentCancelRequested', 'pay_d');
    const { deletes, upserts } = foldPaymentIntents([event('PaymentCaptureRequested', 'pay_d'), event('PaymentOperationRefused', 'pay_d'), cancel]);
    expect(deletes).toEqual([]);
    expect(upserts).toEqual([{ payment_id: 'pay_d', request_event_id: cancel.id, operation: 'cancel', at: cancel.metadata.occurredAt }]);
  });
});

describe('payment_operation_pending on the wire', () => {
  it('is a 409 with Retry-After that releases the Idempotency-Key (a retry after the answer decides again)', () => {
    const problem = problemForCommandError({ code: 'payment_operation_pending', paymentId: 'pay_x', operation: 'capture' });
    expect(problem).toMatchObject({ code: 'payment_operation_pending', extensions: { pendingOperation: 'capture' }, retryAfterSeconds: 2 });
    expect(isRetryableOutcome(409, 'payment_operation_pending')).toBe(true);
  });
});
