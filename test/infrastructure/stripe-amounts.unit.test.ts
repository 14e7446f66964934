import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent, supportedCurrencies, toCurrencyCode } from '../../src/domain/currency.js';
import { stripeExponent, toStripeAmount } from '../../src/infrastructure/stripe/stripe-amounts.js';

describe('amounts in Stripe\'s minor units', () => {
  it.each([
    [5_000, 'EUR', 5_000, 'eur'],
    [500, 'JPY', 500, 'jpy'],
    [1_230, 'BHD', 1_230, 'bhd'],
    // ISK: ISO has no decimals, Stripe two that are always 00.
    [150, 'ISK', 15_000, 'isk'],
    // MGA: ISO has two decimals, Stripe none.
    [12_300, 'MGA', 123, 'mga'],
  ])('%d %s is %d %s', (amount, currency, expected, stripeCurrency) => {
    expect(toStripeAmount(amount, currency)).toEqual({ ok: true, amount: expected, currency: stripeCurrency });
  });

  it('refuses what Stripe cannot count: a fraction of an ariary, a three-decimal amount not ending in 0', () => {
    expect(toStripeAmount(12_345, 'MGA')).toMatchObject({ ok: false });
    expect(toStripeAmount(1_235, 'BHD')).toMatchObject({ ok: false, message: expect.stringContaining('last digit is 0') });
    expect(toStripeAmount(100, 'ZZZ')).toMatchObject({ ok: false });
  });

  it('converts exactly: back to our minor units gives the same amount, for every currency', () => {
    fc.assert(fc.property(fc.constantFrom(...supportedCurrencies()), fc.integer({ min: 1, max: 99_999_999 }), (currency, amount) => {
      const converted = toStripeAmount(amount, currency);
      if (!converted.ok) return;
      const shift = stripeExponent(currency) - currencyExponent(toCurrencyCode(currency));
      const back = shift >= 0 ? converted.amount / 10 ** shift : converted.amount * 10 ** -shift;
      expect(back).toBe(amount);
      expect(Number.isSafeInteger(converted.amount)).toBe(true);
    }));
  });
});
