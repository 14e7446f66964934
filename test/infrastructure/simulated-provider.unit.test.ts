import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';

const provider = new SimulatedPaymentProvider();
const request = (paymentMethod: string, idempotencyKey = 'k') => ({
  amount: 100, currency: toCurrencyCode('USD'), paymentMethod, captureMethod: 'manual' as const, customerId: 'c', description: null, metadata: {}, idempotencyKey,
});

describe('SimulatedPaymentProvider', () => {
  it('approves pm_card_visa with a stable provider id per idempotency key', async () => {
    const a = await provider.authorize(request('pm_card_visa'));
    const b = await provider.authorize(request('pm_card_visa'));
    const c = await provider.authorize(request('pm_card_visa', 'other'));
    expect(a.status).toBe('approved');
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', null],
  ])('declines %s with %s / %s', async (pm, failureCode, declineCode) => {
    expect(await provider.authorize(request(pm))).toMatchObject({ status: 'declined', failureCode, declineCode });
  });

  it('rejects an unknown payment method as an invalid request', async () => {
    expect(await provider.authorize(request('pm_card_made_up'))).toMatchObject({ status: 'invalid_request', param: 'paymentMethod' });
    expect(await provider.authorize(request('toString'))).toMatchObject({ status: 'invalid_request' });
  });
});

describe('SimulatedPaymentProvider refunds', () => {
  const refundOf = (providerPaymentId: string, idempotencyKey = 're_1') => provider.refund({ providerPaymentId, amount: 100, currency: 'USD', idempotencyKey });

  it('refunds a visa payment at once, the same refund for the same key', async () => {
    const auth = await provider.authorize(request('pm_card_visa'));
    if (auth.status !== 'approved') throw new Error('approved expected');
    const a = await refundOf(auth.providerPaymentId);
    expect(a.status).toBe('succeeded');
    expect(await refundOf(auth.providerPaymentId)).toEqual(a);
    expect((await refundOf(auth.providerPaymentId, 're_2')).providerRefundId).not.toBe(a.providerRefundId);
    expect(await provider.retrieveRefund(a.providerRefundId)).toEqual(a);
  });

  it('pm_card_refundFail approves the charge, then every refund is pending and fails asynchronously', async () => {
    const auth = await provider.authorize(request('pm_card_refundFail'));
    expect(auth.status).toBe('approved');
    if (auth.status !== 'approved') return;
    expect(await provider.capture({ providerPaymentId: auth.providerPaymentId, amount: 100 })).toEqual({ status: 'ok' });
    const refund = await refundOf(auth.providerPaymentId);
    expect(refund.status).toBe('pending');
    expect(await provider.retrieveRefund(refund.providerRefundId)).toEqual({
      status: 'failed',
      providerRefundId: refund.providerRefundId,
      failureReason: 'expired_or_canceled_card',
    });
  });
});
