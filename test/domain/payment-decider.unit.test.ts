import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { PaymentCommand, PaymentEvent } from '../../src/domain/payment/index.js';
import { EventNotApplicable, decide, evolve, fold, upcastPaymentEvent } from '../../src/domain/payment/index.js';
import { PAYMENT_ID, authorized, canceled, captured, createCommand, failed } from './fixtures.js';

/** given events, when command, then events or error */
const given = (events: PaymentEvent[]) => ({
  when: (cmd: PaymentCommand) => decide(fold(events), cmd),
});

describe('Payment decider: create', () => {
  it('manual capture: authorizes and waits for capture', () => {
    const result = given([]).when(createCommand({ captureMethod: 'manual' }));
    expect(result).toEqual({ ok: true, value: [authorized()] });
    expect(fold(result.ok ? result.value : []).exists && fold(result.ok ? result.value : [])).toMatchObject({ status: 'requires_capture', amountCapturable: 10_000 });
  });

  it('automatic capture: authorizes and captures everything at once', () => {
    const result = given([]).when(createCommand({ captureMethod: 'automatic' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.map((e) => e.type)).toEqual(['PaymentAuthorized', 'PaymentCaptured']);
    expect(result.value[1]).toMatchObject({ data: { amount: 10_000, amountReleased: 0 } });
    expect(fold(result.value)).toMatchObject({ status: 'succeeded', amountCaptured: 10_000, amountCapturable: 0 });
  });

  it('a declined authorization fails the payment with the reason', () => {
    const result = given([]).when(
      createCommand({
        authorization: { status: 'declined', providerPaymentId: 'pi_1', failureCode: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
        paymentMethod: 'pm_card_chargeDeclined',
      }),
    );
    expect(result).toEqual({ ok: true, value: [failed()] });
    expect(fold([failed()])).toMatchObject({ status: 'failed', failure: { code: 'card_declined', declineCode: 'generic_decline' } });
  });

  it('refuses a zero amount', () => {
    const result = given([]).when(createCommand({ amount: { amount: 0, currency: 'USD' } as never }));
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_amount' } });
  });

  it('refuses to create a payment twice', () => {
    expect(given([authorized()]).when(createCommand())).toEqual({ ok: false, error: { code: 'payment_already_exists', paymentId: PAYMENT_ID } });
  });
});

describe('Payment decider: capture', () => {
  it('captures the full authorized amount by default', () => {
    expect(given([authorized()]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID })).toEqual({ ok: true, value: [captured(10_000, 0)] });
  });

  it('a partial capture releases the rest', () => {
    const result = given([authorized()]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID, amount: 2_500 });
    expect(result).toEqual({ ok: true, value: [captured(2_500, 7_500)] });
    expect(fold([authorized(), captured(2_500, 7_500)])).toMatchObject({ status: 'succeeded', amountCaptured: 2_500, amountReleased: 7_500, amountCapturable: 0 });
  });

  it('refuses more than was authorized', () => {
    expect(given([authorized()]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID, amount: 10_001 })).toEqual({
      ok: false,
      error: { code: 'capture_exceeds_authorized', requested: 10_001, capturable: 10_000 },
    });
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 60])('refuses the amount %s', (amount) => {
    expect(given([authorized()]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID, amount })).toMatchObject({ ok: false, error: { code: 'invalid_amount' } });
  });

  it.each([
    ['succeeded', [authorized(), captured(10_000, 0)]],
    ['canceled', [authorized(), canceled()]],
    ['failed', [failed()]],
  ] as const)('refuses to capture a %s payment', (status, events) => {
    expect(given([...events]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID })).toEqual({
      ok: false,
      error: { code: 'illegal_transition', from: status, command: 'capture' },
    });
  });

  it('an unknown payment is not found', () => {
    expect(given([]).when({ type: 'CapturePayment', paymentId: PAYMENT_ID })).toEqual({ ok: false, error: { code: 'payment_not_found', paymentId: PAYMENT_ID } });
  });
});

describe('Payment decider: cancel', () => {
  it('cancels an uncaptured payment and releases the whole authorization', () => {
    const result = given([authorized()]).when({ type: 'CancelPayment', paymentId: PAYMENT_ID, reason: 'requested_by_customer' });
    expect(result).toEqual({
      ok: true,
      value: [{ type: 'PaymentCanceled', data: { paymentId: PAYMENT_ID, customerId: 'cus_1', currency: 'USD', amountReleased: 10_000, reason: 'requested_by_customer' } }],
    });
  });

  it.each([
    ['succeeded', [authorized(), captured(5_000, 5_000)]],
    ['canceled', [authorized(), canceled()]],
    ['failed', [failed()]],
  ] as const)('refuses to cancel a %s payment', (status, events) => {
    expect(given([...events]).when({ type: 'CancelPayment', paymentId: PAYMENT_ID })).toEqual({
      ok: false,
      error: { code: 'illegal_transition', from: status, command: 'cancel' },
    });
  });

  it('an unknown payment is not found', () => {
    expect(given([]).when({ type: 'CancelPayment', paymentId: PAYMENT_ID })).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
  });
});

describe('Payment evolve: an event that cannot apply is a bug, thrown', () => {
  const reasonOf = (apply: () => unknown): string | undefined => {
    try {
      apply();
    } catch (error) {
      if (error instanceof EventNotApplicable) return error.reason;
      throw error;
    }
    return undefined;
  };

  it.each([
    ['a capture of a payment never created', [], captured(100, 0), 'not_created'],
    ['a cancel of a payment never created', [], canceled(), 'not_created'],
    ['a second authorization', [authorized()], authorized(), 'already_created'],
    ['a failure after an authorization', [authorized()], failed(), 'already_created'],
    ['a capture beyond the amount', [authorized()], captured(10_000, 1), 'exceeds_amount'],
    ['a capture after a cancel', [authorized(), canceled()], captured(1, 0), 'exceeds_amount'],
    ['a capture in another currency', [authorized(10_000, toCurrencyCode('EUR'))], captured(100, 9_900), 'currency_differs'],
  ] as const)('%s', (_name, before, event, reason) => {
    const state = fold([...before]);
    expect(reasonOf(() => evolve(state, event))).toBe(reason);
    expect(() => evolve(state, event)).toThrow(new RegExp(`^${event.type} cannot apply to payment ${PAYMENT_ID}`));
  });

  it('applies what decide produced without complaint', () => {
    expect(fold([authorized(), captured(2_500, 7_500)])).toMatchObject({ status: 'succeeded', amountCaptured: 2_500, amountReleased: 7_500 });
    expect(fold([authorized(), canceled()])).toMatchObject({ status: 'canceled', amountReleased: 10_000 });
  });
});

describe('upcastPaymentEvent: where JSON becomes a typed event', () => {
  const data = authorized().data;

  it('reads a stored event', () => {
    expect(upcastPaymentEvent('PaymentAuthorized', JSON.parse(JSON.stringify(data)), 1)).toEqual(authorized());
  });

  it.each([
    ['an unknown type', 'PaymentRefunded', data, 1, /not a payment event/],
    ['a version from the future', 'PaymentAuthorized', data, 2, /newer than this code/],
    ['no data', 'PaymentAuthorized', null, 1, /has no data/],
    ['a malformed payment id', 'PaymentAuthorized', { ...data, paymentId: 'pay_1' }, 1, /names no payment id/],
    ['an unknown currency', 'PaymentAuthorized', { ...data, currency: 'usd' }, 1, /no known currency/],
  ] as const)('throws on %s', (_name, type, raw, version, message) => {
    expect(() => upcastPaymentEvent(type, raw, version)).toThrow(message);
  });
});
