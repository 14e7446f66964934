import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent, isCurrencyCode } from '../../src/domain/currency.js';
import type { CurrencyCode } from '../../src/domain/currency.js';
import { MAX_AMOUNT_MINOR, add, compare, money, moneyOf, subtract } from '../../src/domain/money.js';

describe('Money', () => {
  it('knows each currency exponent', () => {
    expect(currencyExponent('JPY' as CurrencyCode)).toBe(0);
    expect(currencyExponent('USD' as CurrencyCode)).toBe(2);
    expect(currencyExponent('BHD' as CurrencyCode)).toBe(3);
    expect(isCurrencyCode('XXX')).toBe(false);
    expect(isCurrencyCode('usd')).toBe(false);
    expect(isCurrencyCode('__proto__')).toBe(false);
  });

  it.each([1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_AMOUNT_MINOR + 1, '100', null])('refuses amount %s', (amount) => {
    expect(money(amount, 'USD')).toMatchObject({ ok: false, error: { code: 'invalid_amount' } });
  });

  it('refuses unknown currencies', () => {
    expect(money(100, 'ABC')).toEqual({ ok: false, error: { code: 'invalid_currency', currency: 'ABC' } });
  });

  it('mixing currencies is an error', () => {
    const usd = moneyOf(100, 'USD');
    const eur = moneyOf(100, 'EUR');
    expect(add(usd, eur)).toEqual({ ok: false, error: { code: 'currency_mismatch', left: 'USD', right: 'EUR' } });
    expect(subtract(usd, eur).ok).toBe(false);
    expect(compare(usd, eur).ok).toBe(false);
  });

  it('subtraction never goes negative', () => {
    expect(subtract(moneyOf(1, 'USD'), moneyOf(2, 'USD')).ok).toBe(false);
  });

  it('addition and subtraction are exact inverses within range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(MAX_AMOUNT_MINOR / 2) }), fc.integer({ min: 0, max: Math.floor(MAX_AMOUNT_MINOR / 2) }), (a, b) => {
        const sum = add(moneyOf(a, 'JPY'), moneyOf(b, 'JPY'));
        expect(sum.ok).toBe(true);
        if (!sum.ok) return;
        expect(subtract(sum.value, moneyOf(b, 'JPY'))).toEqual({ ok: true, value: moneyOf(a, 'JPY') });
      }),
    );
  });
});
