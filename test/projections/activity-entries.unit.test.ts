import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { activityRecordOf, formatMinor, positionSortKey } from '../../src/projections/activity/activity-entries.js';
import { authorized, canceled, captured, failed } from '../domain/fixtures.js';

const meta = { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-03-01T10:00:00.000Z', schemaVersion: 1 };
let n = 0;
const recorded = (event: { type: string; data: unknown }): RecordedEvent => {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: event.type,
    streamId: 's',
    revision: streamRevision(0),
    position: position(BigInt(n), 7n),
    data: event.data,
    metadata: meta,
    recordedAt: new Date(),
  };
};

const refund = (type: string, extra: Record<string, unknown> = {}) => ({
  type,
  data: { refundId: 're_01JD0000000000000000000000', paymentId: 'pay_01JD0000000000000000000000', customerId: 'cus_1', amount: 250, currency: 'JPY', ...extra },
});

describe('activity entries', () => {
  it('maps each payment fact to one entry on its customer\'s timeline, keyed by the event id', () => {
    const e = recorded(authorized(1_250));
    expect(activityRecordOf(e)).toEqual({
      customerId: 'cus_1',
      entry: {
        id: e.id, type: 'payment.created', occurredAt: meta.occurredAt, position: `${n}.7`,
        paymentId: 'pay_01JD0000000000000000000000', amount: 1_250, currency: 'USD', summary: 'Payment of 12.50 USD authorized',
      },
    });
    expect(activityRecordOf(recorded(captured(900, 100)))?.entry).toMatchObject({ type: 'payment.captured', amount: 900, summary: 'Payment of 9.00 USD captured' });
    expect(activityRecordOf(recorded(canceled(5)))?.entry).toMatchObject({ type: 'payment.canceled', amount: 5, summary: 'Payment canceled, 0.05 USD released' });
    expect(activityRecordOf(recorded(failed()))?.entry).toMatchObject({ type: 'payment.failed', summary: 'Payment of 100.00 USD failed: Your card was declined.' });
  });

  it('maps refund requested, succeeded and failed; canceled refunds and other events make none', () => {
    expect(activityRecordOf(recorded(refund('RefundRequested', { reason: null, metadata: {} })))?.entry).toMatchObject({
      type: 'refund.requested', refundId: 're_01JD0000000000000000000000', paymentId: 'pay_01JD0000000000000000000000', amount: 250, currency: 'JPY', summary: 'Refund of 250 JPY requested',
    });
    expect(activityRecordOf(recorded(refund('RefundSucceeded', { providerRefundId: 'rf_1' })))?.entry.type).toBe('refund.succeeded');
    expect(activityRecordOf(recorded(refund('RefundFailed', { providerRefundId: null, failureReason: 'expired_or_canceled_card' })))?.entry.summary)
      .toBe('Refund of 250 JPY failed: expired_or_canceled_card');
    expect(activityRecordOf(recorded(refund('RefundCanceled')))).toBeUndefined();
    expect(activityRecordOf(recorded({ type: 'PaymentRefundReserved', data: {} }))).toBeUndefined();
    expect(activityRecordOf(recorded({ type: 'ProjectionRebuilt', data: {} }))).toBeUndefined();
  });

  it('refuses a refund event without the fields it needs', () => {
    expect(() => activityRecordOf(recorded(refund('RefundFailed')))).toThrow(/RefundFailed of re_\w+ has no failureReason/);
  });

  it('formats minor units by the currency exponent without floats', () => {
    expect(formatMinor(1, 'BHD')).toBe('0.001 BHD');
    expect(formatMinor(999_999_999_999, 'USD')).toBe('9999999999.99 USD');
    expect(formatMinor(0, 'JPY')).toBe('0 JPY');
  });

  it('sort keys order like positions', () => {
    const keys = [position(10n, 1n), position(9n, 99n), position(10n, 0n), position(18446744073709551615n, 0n)].map(positionSortKey);
    expect([...keys].sort()).toEqual([keys[1], keys[2], keys[0], keys[3]]);
  });
});
