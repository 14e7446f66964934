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
