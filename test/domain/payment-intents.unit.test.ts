import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { PaymentCommand, PaymentEvent } from '../../src/domain/payment/index.js';
import { EventNotApplicable, decide, evolve, fold, upcastPaymentEvent } from '../../src/domain/payment/index.js';
import { PAYMENT_ID, authorized, canceled, captured, createCommand } from './fixtures.js';

/*
 * Intent first: the request events, their outcomes, and the pending operation between them.
 * given events, when command, then events or error.
 */
const given = (events: PaymentEvent[]) => ({ when: (cmd: PaymentCommand) => decide(fold(events), cmd) });
const USD = toCurrencyCode('USD');
const ref = { paymentId: PAYMENT_ID, customerId: 'cus_1', currency: USD };

const { authorization: _a, type: _t, ...request } = createCommand();
const requestPayment = (captureMethod: 'manual' | 'automatic' = 'manual'): PaymentCommand => ({
  ...request,
  captureMethod,
  type: 'RequestPayment',
  providerKey: `create:${PAYMENT_ID}`,
});
const requested = (captureMethod: 'manual' | 'automatic' = 'manual'): PaymentEvent => ({
  type: 'PaymentRequested',
  data: {
    paymentId: PAYMENT_ID,
    customerId: 'cus_1',
    amount: 10_000,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    captureMethod,
    description: null,
    metadata: {},
    providerKey: `create:${PAYMENT_ID}`,
  },
});
const captureRequested = (amount: number): PaymentEvent => ({ type: 'PaymentCaptureRequested', data: { ...ref, amount, providerKey: `capture:${PAYMENT_ID}:${amount}` } });
const cancelRequested = (reason: 'duplicate' | null = 'duplicate'): PaymentEvent => ({ type: 'PaymentCancelRequested', data: { ...ref, reason, providerKey: `cancel:${PAYMENT_ID}` } });
const refused = (operation: 'capture' | 'cancel'): PaymentEvent => ({
  type: 'PaymentOperationRefused',
  data: { ...ref, operation, failureCode: 'charge_expired_for_capture', failureMessage: 'expired' },
});
const approved: PaymentCommand = { type: 'RecordAuthorization', paymentId: PAYMENT_ID, authorization: { status: 'approved', providerPaymentId: 'pi_1' } };
const outcome = (operation: 'capture' | 'cancel', ok: boolean): PaymentCommand => ({
  type: 'RecordOperationOutcome',
  paymentId: PAYMENT_ID,
  operation,
  outcome: ok ? { status: 'ok' } : { status: 'failed', code: 'charge_expired_for_capture', message: 'expired' },
});

describe('Payment intents: create', () => {
  it('a request records the details and the processor key; the payment is processing with a pending create', () => {
    expect(given([]).when(requestPayment())).toEqual({ ok: true, value: [requested()] });
    expect(fold([requested()])).toMatchObject({ status: 'processing', amountCapturable: 0, providerPaymentId: null, pendingOperation: { operation: 'create' } });
  });

  it('refuses a second request of the same payment', () => {
    expect(given([requested()]).when(requestPayment())).toEqual({ ok: false, error: { code: 'payment_already_exists', paymentId: PAYMENT_ID } });
  });

  it('an approval authorizes (manual) and ends the pending create', () => {
    expect(given([requested()]).when(approved)).toEqual({ ok: true, value: [authorized()] });
    expect(fold([requested(), authorized()])).toMatchObject({ status: 'requires_capture', amountCapturable: 10_000, providerPaymentId: 'pi_1', pendingOperation: null });
  });

  it('an approval of an automatic-capture request authorizes and captures', () => {
    const result = given([requested('automatic')]).when(approved);
    expect(result.ok && result.value.map((e) => e.type)).toEqual(['PaymentAuthorized', 'PaymentCaptured']);
    expect(fold([requested('automatic'), ...(result.ok ? result.value : [])])).toMatchObject({ status: 'succeeded', amountCaptured: 10_000, pendingOperation: null });
  });

  it('a decline fails the payment with the reason', () => {
    const result = given([requested()]).when({
      type: 'RecordAuthorization',
      paymentId: PAYMENT_ID,
      authorization: { status: 'declined', providerPaymentId: 'pi_1', failureCode: 'card_declined', declineCode: 'generic_decline', message: 'declined' },
    });
    expect(result).toMatchObject({ ok: true, value: [{ type: 'PaymentFailed', data: { failureCode: 'card_declined', providerPaymentId: 'pi_1' } }] });
  });

  it('a request the processor would not consider ends as a failure naming the parameter', () => {
    const result = given([requested()]).when({
      type: 'RecordAuthorization',
      paymentId: PAYMENT_ID,
      authorization: { status: 'invalid_request', param: 'paymentMethod', message: 'No such PaymentMethod' },
    });
    expect(result).toMatchObject({
      ok: true,
      value: [{ type: 'PaymentFailed', data: { failureCode: 'invalid_request', providerPaymentId: null, invalidParam: 'paymentMethod', failureMessage: 'No such PaymentMethod' } }],
    });
    expect(fold([requested(), ...(result.ok ? result.value : [])])).toMatchObject({ status: 'failed', pendingOperation: null });
  });

  it('refuses to record an authorization nobody asked for', () => {
    expect(given([authorized()]).when(approved)).toEqual({ ok: false, error: { code: 'no_operation_pending', paymentId: PAYMENT_ID, operation: 'create' } });
    expect(given([]).when(approved)).toMatchObject({ ok: false, error: { code: 'payment_not_found' } });
  });

  it.each<[string, PaymentCommand]>([
    ['a capture', { type: 'CapturePayment', paymentId: PAYMENT_ID }],
    ['a capture request', { type: 'RequestCapture', paymentId: PAYMENT_ID }],
    ['a cancel request', { type: 'RequestCancel', paymentId: PAYMENT_ID }],
    ['a cancel', { type: 'CancelPayment', paymentId: PAYMENT_ID }],
  ])('while the create is pending, %s is refused as payment_operation_pending', (_name, cmd) => {
    expect(given([requested()]).when(cmd)).toEqual({ ok: false, error: { code: 'payment_operation_pending', paymentId: PAYMENT_ID, operation: 'create' } });
  });
});

describe('Payment intents: capture and cancel', () => {
  it('a capture request names the amount (all capturable by default) and its processor key', () => {
    expect(given([requested(), authorized()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID })).toEqual({ ok: true, value: [captureRequested(10_000)] });
    expect(given([requested(), authorized()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID, amount: 2_500 })).toEqual({ ok: true, value: [captureRequested(2_500)] });
    expect(fold([requested(), authorized(), captureRequested(2_500)])).toMatchObject({ status: 'requires_capture', pendingOperation: { operation: 'capture', amount: 2_500 } });
  });

  it('a capture request is checked like a capture', () => {
    expect(given([authorized()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID, amount: 10_001 })).toMatchObject({ ok: false, error: { code: 'capture_exceeds_authorized' } });
    expect(given([authorized(), canceled()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID })).toMatchObject({ ok: false, error: { code: 'illegal_transition', from: 'canceled' } });
  });

  it('the outcome of a capture captures what was requested and releases the rest', () => {
    expect(given([authorized(), captureRequested(2_500)]).when(outcome('capture', true))).toEqual({ ok: true, value: [captured(2_500, 7_500)] });
    expect(fold([authorized(), captureRequested(2_500), captured(2_500, 7_500)])).toMatchObject({ status: 'succeeded', pendingOperation: null });
  });

  it('a refused capture ends the pending operation and leaves the payment as it was', () => {
    expect(given([authorized(), captureRequested(2_500)]).when(outcome('capture', false))).toEqual({ ok: true, value: [refused('capture')] });
    const after = fold([authorized(), captureRequested(2_500), refused('capture')]);
    expect(after).toMatchObject({ status: 'requires_capture', amountCapturable: 10_000, pendingOperation: null });
    // ...so the payment can be captured or canceled again.
    expect(given([authorized(), captureRequested(2_500), refused('capture')]).when({ type: 'RequestCancel', paymentId: PAYMENT_ID })).toMatchObject({ ok: true });
  });

  it('a pending capture refuses a cancel, and a pending cancel a capture: only one can reach the processor', () => {
    expect(given([authorized(), captureRequested(10_000)]).when({ type: 'RequestCancel', paymentId: PAYMENT_ID })).toEqual({
      ok: false,
      error: { code: 'payment_operation_pending', paymentId: PAYMENT_ID, operation: 'capture' },
    });
    expect(given([authorized(), cancelRequested()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID })).toEqual({
      ok: false,
      error: { code: 'payment_operation_pending', paymentId: PAYMENT_ID, operation: 'cancel' },
    });
  });

  it('the outcome of a cancel releases everything, with the reason the request gave', () => {
    expect(given([authorized(), cancelRequested('duplicate')]).when(outcome('cancel', true))).toEqual({
      ok: true,
      value: [{ type: 'PaymentCanceled', data: { ...ref, amountReleased: 10_000, reason: 'duplicate' } }],
    });
  });

  it('refuses an outcome of an operation that is not the pending one', () => {
    expect(given([authorized(), cancelRequested()]).when(outcome('capture', true))).toEqual({ ok: false, error: { code: 'no_operation_pending', paymentId: PAYMENT_ID, operation: 'capture' } });
    expect(given([authorized()]).when(outcome('cancel', true))).toMatchObject({ ok: false, error: { code: 'no_operation_pending' } });
  });
});

describe('Payment intents: streams written before intents', () => {
  it('a stream without request events folds as before, with nothing pending', () => {
    expect(fold([authorized(), captured(2_500, 7_500)])).toMatchObject({ status: 'succeeded', amountCaptured: 2_500, pendingOperation: null });
  });

  it('an old authorized payment takes the new capture and cancel requests', () => {
    expect(given([authorized()]).when({ type: 'RequestCapture', paymentId: PAYMENT_ID })).toEqual({ ok: true, value: [captureRequested(10_000)] });
    expect(given([authorized()]).when({ type: 'RequestCancel', paymentId: PAYMENT_ID, reason: 'duplicate' })).toEqual({ ok: true, value: [cancelRequested()] });
  });
});

describe('Payment intents: evolve', () => {
  it('refuses events that cannot follow: a second request, an outcome of another amount, a refusal of nothing', () => {
    expect(() => evolve(fold([authorized(), captureRequested(1_000)]), cancelRequested())).toThrow(EventNotApplicable);
    expect(() => evolve(fold([requested()]), authorized(9_999))).toThrow(EventNotApplicable);
    expect(() => evolve(fold([authorized()]), refused('capture'))).toThrow(EventNotApplicable);
    expect(() => evolve(fold([authorized()]), captureRequested(10_001))).toThrow(EventNotApplicable);
    expect(() => evolve(fold([requested(), authorized()]), authorized())).toThrow(EventNotApplicable);
  });

  it('the new event types come back from the store through the upcaster', () => {
    for (const e of [requested(), captureRequested(1), cancelRequested(), refused('cancel')]) {
      expect(upcastPaymentEvent(e.type, JSON.parse(JSON.stringify(e.data)), 1)).toEqual(e);
    }
  });
});
