import { describe, expect, it } from 'vitest';
import type { PaymentEvent } from '../../src/domain/payment/index.js';
import { EventNotApplicable, decide, evolve, fold, refundable } from '../../src/domain/payment/index.js';
import { PAYMENT_ID, authorized, canceled, captured } from './fixtures.js';
import { REFUND_ID, refundId, released, reserved, settled } from './refund-fixtures.js';

const reserve = (amount?: number, id = REFUND_ID) =>
  ({ type: 'ReserveRefund', paymentId: PAYMENT_ID, refundId: id, amount, reason: 'requested_by_customer', metadata: { order: '7' } }) as const;
const settle = (id = REFUND_ID) => ({ type: 'SettleRefund', paymentId: PAYMENT_ID, refundId: id }) as const;
const release = (id = REFUND_ID) => ({ type: 'ReleaseRefund', paymentId: PAYMENT_ID, refundId: id, outcome: 'failed' }) as const;

const capturedPayment: PaymentEvent[] = [authorized(), captured(8_000, 2_000)];

describe('Payment decider: refund reservations', () => {
  it('given a captured payment, when a refund reserves part of it, then the reservation carries the request', () => {
    expect(decide(fold(capturedPayment), reserve(3_000))).toEqual({ ok: true, value: [reserved(3_000)] });
  });

  it('an omitted amount reserves everything still refundable (captured − refunded − reserved)', () => {
    const state = fold([...capturedPayment, reserved(1_000, refundId(1)), settled(1_000, refundId(1)), reserved(2_000, refundId(2))]);
    expect(refundable(state.exists ? state : (undefined as never))).toBe(5_000);
    expect(decide(state, reserve(undefined))).toMatchObject({ ok: true, value: [{ data: { amount: 5_000 } }] });
  });

  it('refuses more than refundable, naming the refundable amount and currency', () => {
    const state = fold([...capturedPayment, reserved(7_000, refundId(1))]);
    expect(decide(state, reserve(1_001))).toEqual({
      ok: false,
      error: { code: 'amount_exceeds_refundable', requested: 1_001, refundable: 1_000, currency: 'USD' },
    });
    expect(decide(fold([...capturedPayment, reserved(8_000, refundId(1))]), reserve())).toMatchObject({
      ok: false,
      error: { code: 'amount_exceeds_refundable', refundable: 0 },
    });
  });

  it('refuses a zero or fractional amount', () => {
    expect(decide(fold(capturedPayment), reserve(0))).toMatchObject({ ok: false, error: { code: 'invalid_amount' } });
    expect(decide(fold(capturedPayment), reserve(1.5))).toMatchObject({ ok: false, error: { code: 'invalid_amount' } });
  });

  it.each([
    ['requires_capture', [authorized()]],
    ['canceled', [authorized(), canceled()]],
    ['refunded', [...capturedPayment, reserved(8_000), settled(8_000)]],
  ] as const)('a %s payment is not refundable', (status, events) => {
    expect(decide(fold([...events]), reserve(1))).toEqual({ ok: false, error: { code: 'payment_not_refundable', paymentId: PAYMENT_ID, status } });
  });

  it('a missing payment is not found', () => {
    expect(decide(fold([]), reserve(1))).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
  });

  it('a refund id reserves once', () => {
    expect(decide(fold([...capturedPayment, reserved(1_000)]), reserve(1_000))).toMatchObject({ ok: false, error: { code: 'refund_already_reserved' } });
  });

  it('settling makes the payment partially_refunded, then refunded when everything captured went back', () => {
    const partial = fold([...capturedPayment, reserved(3_000), settled(3_000)]);
    expect(partial).toMatchObject({ status: 'partially_refunded', amountRefunded: 3_000 });
    const full = fold([...capturedPayment, reserved(3_000), settled(3_000), reserved(5_000, refundId(2)), settled(5_000, refundId(2))]);
    expect(full).toMatchObject({ status: 'refunded', amountRefunded: 8_000 });
  });

  it('settle and release are exact (the reserved amount) and a repeat the same way is no event', () => {
    const open = fold([...capturedPayment, reserved(3_000)]);
    expect(decide(open, settle())).toEqual({ ok: true, value: [settled(3_000)] });
    expect(decide(open, release())).toEqual({ ok: true, value: [released(3_000)] });
    expect(decide(fold([...capturedPayment, reserved(3_000), settled(3_000)]), settle())).toEqual({ ok: true, value: [] });
    expect(decide(fold([...capturedPayment, reserved(3_000), released(3_000)]), release())).toEqual({ ok: true, value: [] });
  });

  it('refuses to settle a released reservation, or one that never was', () => {
    expect(decide(fold([...capturedPayment, reserved(3_000), released(3_000)]), settle())).toMatchObject({
      ok: false,
      error: { code: 'refund_reservation_not_open', reservation: 'released' },
    });
    expect(decide(fold(capturedPayment), settle())).toMatchObject({ ok: false, error: { code: 'refund_reservation_not_open', reservation: 'missing' } });
  });

  it('a released reservation is refundable again and leaves the status alone', () => {
    const state = fold([...capturedPayment, reserved(8_000), released(8_000)]);
    expect(state).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(decide(state, reserve(undefined, refundId(2)))).toMatchObject({ ok: true, value: [{ data: { amount: 8_000 } }] });
  });

  it('evolve refuses what decide never produces: settling unknown or settled reservations, over-reserving', () => {
    const open = fold([...capturedPayment, reserved(3_000)]);
    expect(() => evolve(fold(capturedPayment), settled(3_000))).toThrow(EventNotApplicable);
    expect(() => evolve(fold([...capturedPayment, reserved(3_000), settled(3_000)]), settled(3_000))).toThrow(EventNotApplicable);
    expect(() => evolve(open, settled(2_000))).toThrow(/reserved 3000/);
    expect(() => evolve(open, reserved(5_001, refundId(2)))).toThrow(EventNotApplicable);
    expect(() => evolve(fold([authorized()]), reserved(1))).toThrow(/requires_capture/);
  });
});
