import { describe, expect, it } from 'vitest';
import { position } from '../../src/application/ports/position.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import type { RevenueTotals } from '../../src/projections/reports/revenue-fold.js';
import { aggregateBatch, contributionOf, countedEvents, mergeDelta, rowKey } from '../../src/projections/reports/revenue-fold.js';
import { authorizedEvent, capturedEvent, recorded, refundRequestedEvent, refundSucceededEvent } from './support/revenue-events.js';

const capture = (amount: number, currency: string, occurredAt: string, at: number) =>
  recorded(capturedEvent({ payment: at, amount, currency, occurredAt }), at);
const refund = (amount: number, currency: string, occurredAt: string, at: number) =>
  recorded(refundSucceededEvent({ refund: at, payment: at, amount, currency, occurredAt }), at);

describe('what each event adds to the report', () => {
  it('counts a capture as gross and one payment, on the UTC day of occurredAt', () => {
    // 23:30 at UTC−05:00 is already the next day in UTC.
    expect(contributionOf(capture(1999, 'USD', '2025-03-14T23:30:00-05:00', 1))).toEqual({
      day: '2025-03-15', currency: 'USD', gross: 1999, refunded: 0, payments: 1, refunds: 0,
    });
    expect(contributionOf(capture(500, 'JPY', '2025-03-14T00:00:00.000Z', 2))).toMatchObject({ day: '2025-03-14', currency: 'JPY', gross: 500 });
  });

  it('counts a succeeded refund as refunded and one refund', () => {
    expect(contributionOf(refund(700, 'EUR', '2025-12-31T23:59:59.999Z', 3))).toEqual({
      day: '2025-12-31', currency: 'EUR', gross: 0, refunded: 700, payments: 0, refunds: 1,
    });
  });

  it('ignores events that move no revenue', () => {
    const spec = { payment: 1, refund: 1, amount: 100, currency: 'USD', occurredAt: '2025-01-01T00:00:00Z' };
    expect(contributionOf(recorded(authorizedEvent(spec), 1))).toBeUndefined();
    expect(contributionOf(recorded(refundRequestedEvent(spec), 2))).toBeUndefined();
  });

  it('stops at an event it cannot read, naming it', () => {
    const badTime = capture(100, 'USD', 'yesterday', 1);
    expect(() => contributionOf(badTime)).toThrow(ProjectionEventError);
    const good = refund(100, 'USD', '2025-01-01T00:00:00Z', 2);
    const badRefund = { ...good, data: { ...(good.data as object), amount: 1.5 } };
    expect(() => contributionOf(badRefund)).toThrow(/RefundSucceeded of re_\w+ has no positive integer amount/);
    const noCurrency = { ...good, data: { ...(good.data as object), currency: 'usd' } };
    expect(() => contributionOf(noCurrency)).toThrow(ProjectionEventError);
    const badCapture = { ...capture(100, 'USD', '2025-01-01T00:00:00Z', 4), data: { paymentId: 'nope', currency: 'USD', amount: 1 } };
    expect(() => contributionOf(badCapture)).toThrow(ProjectionEventError);
  });
});

describe('a batch', () => {
  const day1 = '2025-03-14T10:00:00Z';
  const day2 = '2025-03-15T10:00:00Z';

  it('aggregates into one delta per (day, currency)', () => {
    const batch = [capture(1000, 'USD', day1, 1), capture(250, 'USD', day1, 2), refund(300, 'USD', day1, 3), capture(90, 'EUR', day1, 4), refund(5, 'USD', day2, 5)];
    const deltas = aggregateBatch(new Map(), countedEvents(batch));
    expect(deltas).toEqual([
      { day: '2025-03-14', currency: 'USD', gross: 1250, refunded: 300, payments: 2, refunds: 1, last: position(3n, 3n) },
      { day: '2025-03-14', currency: 'EUR', gross: 90, refunded: 0, payments: 1, refunds: 0, last: position(4n, 4n) },
      { day: '2025-03-15', currency: 'USD', gross: 0, refunded: 5, payments: 0, refunds: 1, last: position(5n, 5n) },
    ]);
  });

  it('leaves out what a stored row already counted, so a replay adds nothing', () => {
    const batch = [capture(1000, 'USD', day1, 1), capture(250, 'USD', day1, 2), capture(90, 'EUR', day1, 3)];
    const counted = countedEvents(batch);
    expect(aggregateBatch(new Map([[rowKey('2025-03-14', 'USD'), position(2n, 2n)], [rowKey('2025-03-14', 'EUR'), position(3n, 3n)]]), counted)).toEqual([]);
    // A row that counted only the first event gets the rest.
    expect(aggregateBatch(new Map([[rowKey('2025-03-14', 'USD'), position(1n, 1n)]]), counted)).toEqual([
      { day: '2025-03-14', currency: 'USD', gross: 250, refunded: 0, payments: 1, refunds: 0, last: position(2n, 2n) },
      { day: '2025-03-14', currency: 'EUR', gross: 90, refunded: 0, payments: 1, refunds: 0, last: position(3n, 3n) },
    ]);
  });

  it('merges a delta with +=, unless the row already has its last event', () => {
    const row: RevenueTotals = { day: '2025-03-14' as RevenueTotals['day'], currency: 'USD' as RevenueTotals['currency'], gross: 10, refunded: 1, payments: 1, refunds: 1, last: position(5n, 0n) };
    const [delta] = aggregateBatch(new Map(), countedEvents([capture(7, 'USD', day1, 6)]));
    expect(mergeDelta(row, delta!)).toEqual({ ...row, gross: 17, payments: 2, last: position(6n, 6n) });
    expect(mergeDelta({ ...row, last: position(6n, 6n) }, delta!)).toEqual({ ...row, last: position(6n, 6n) });
    expect(mergeDelta(undefined, delta!)).toEqual({ ...row, gross: 7, refunded: 0, payments: 1, refunds: 0, last: position(6n, 6n) });
  });

  it('refuses a total past the exact integer range instead of rounding it', () => {
    const huge = [capture(Number.MAX_SAFE_INTEGER, 'USD', day1, 1), capture(1, 'USD', day1, 2)];
    expect(() => aggregateBatch(new Map(), countedEvents(huge))).toThrow(/exact integer range/);
  });
});
