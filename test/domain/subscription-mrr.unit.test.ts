import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_INTERVAL_COUNT } from '../../src/domain/billing/recurrence.js';
import type { MinorFraction } from '../../src/domain/subscription/mrr.js';
import { addFractions, countsInMrr, monthlyAmount, mrrFigures, roundHalfUp } from '../../src/domain/subscription/mrr.js';

/* MRR arithmetic (src/domain/subscription/mrr.ts): normalising a price to a month, exact sums, one rounding. */

const value = (f: MinorFraction): number => Number(f.numerator) / Number(f.denominator);
const mrrOf = (...prices: { amount: number; interval: 'day' | 'week' | 'month' | 'year'; intervalCount: number }[]) => mrrFigures(prices.map(monthlyAmount));

describe('normalising a price to a month', () => {
  it('counts a month as itself, a year as 1/12, a week as 52/12, a day as 365/12', () => {
    expect(value(monthlyAmount({ amount: 1_000, interval: 'month', intervalCount: 1 }))).toBe(1_000);
    expect(value(monthlyAmount({ amount: 12_000, interval: 'year', intervalCount: 1 }))).toBe(1_000);
    expect(monthlyAmount({ amount: 100, interval: 'week', intervalCount: 1 })).toEqual({ numerator: 5_200n, denominator: 12n });
    expect(monthlyAmount({ amount: 100, interval: 'day', intervalCount: 1 })).toEqual({ numerator: 36_500n, denominator: 12n });
  });

  it('divides by intervalCount', () => {
    expect(value(monthlyAmount({ amount: 3_000, interval: 'month', intervalCount: 3 }))).toBe(1_000);
    expect(monthlyAmount({ amount: 100, interval: 'week', intervalCount: 2 })).toEqual({ numerator: 5_200n, denominator: 24n });
    expect(monthlyAmount({ amount: 700, interval: 'day', intervalCount: 7 })).toEqual({ numerator: 255_500n, denominator: 84n });
  });

  it('rounds the total half up once, and ARR from the exact total (not 12 × the rounded MRR)', () => {
    // 100 a week: 433.33… a month, 5,200 a year.
    expect(mrrOf({ amount: 100, interval: 'week', intervalCount: 1 })).toMatchObject({ mrr: 433n, arr: 5_200n });
    // 100 a day: 3,041.66… a month, 36,500 a year.
    expect(mrrOf({ amount: 100, interval: 'day', intervalCount: 1 })).toMatchObject({ mrr: 3_042n, arr: 36_500n });
    // Three weekly 100s: 1,300 exactly, where rounding each (433 × 3) would say 1,299.
    const weekly = { amount: 100, interval: 'week' as const, intervalCount: 1 };
    expect(mrrOf(weekly, weekly, weekly)).toMatchObject({ mrr: 1_300n, arr: 15_600n });
    // A half rounds up: 6 a year is 0.5 a month.
    expect(mrrOf({ amount: 6, interval: 'year', intervalCount: 1 })).toMatchObject({ mrr: 1n, arr: 6n });
    expect(mrrOf()).toMatchObject({ mrr: 0n, arr: 0n });
  });

  it('rounds halves up and the rest to nearest', () => {
    expect(roundHalfUp({ numerator: 1n, denominator: 2n })).toBe(1n);
    expect(roundHalfUp({ numerator: 5n, denominator: 2n })).toBe(3n);
    expect(roundHalfUp({ numerator: 5n, denominator: 4n })).toBe(1n);
    expect(roundHalfUp({ numerator: 7n, denominator: 4n })).toBe(2n);
    expect(roundHalfUp({ numerator: 0n, denominator: 7n })).toBe(0n);
    expect(() => roundHalfUp({ numerator: -1n, denominator: 2n })).toThrow(RangeError);
  });

  it('counts active and past_due only', () => {
    expect(['active', 'past_due', 'trialing', 'incomplete', 'incomplete_expired', 'paused', 'unpaid', 'canceled'].filter((s) => countsInMrr(s as never))).toEqual(['active', 'past_due']);
  });
});

const interval = fc.constantFrom<'day' | 'week' | 'month' | 'year'>('day', 'week', 'month', 'year');
const price = interval.chain((i) =>
  fc.record({ amount: fc.integer({ min: 0, max: 100_000_000 }), interval: fc.constant(i), intervalCount: fc.integer({ min: 1, max: MAX_INTERVAL_COUNT[i] }) }),
);

describe('MRR sums (properties)', () => {
  it('the rounded MRR and ARR are within half a minor unit of the exact sums, halves rounded up', () => {
    fc.assert(
      fc.property(fc.array(price, { maxLength: 40 }), (prices) => {
        const { exact, mrr, arr } = mrrFigures(prices.map(monthlyAmount));
        const { numerator: p, denominator: q } = exact;
        // mrr = floor(p/q + 1/2)  ⇔  2·mrr·q ≤ 2p + q < 2·(mrr + 1)·q
        expect(2n * mrr * q <= 2n * p + q && 2n * p + q < 2n * (mrr + 1n) * q).toBe(true);
        expect(2n * arr * q <= 24n * p + q && 24n * p + q < 2n * (arr + 1n) * q).toBe(true);
      }),
    );
  });

  it('the exact sum equals a naive sum over one common denominator, in any order', () => {
    fc.assert(
      fc.property(fc.array(price, { maxLength: 40 }), (prices) => {
        const parts = prices.map(monthlyAmount);
        // Every denominator divides 12 × 365 × 52 × … ; their product is a common one.
        const common = parts.reduce((d, f) => d * f.denominator, 1n);
        const naive = parts.reduce((n, f) => n + f.numerator * (common / f.denominator), 0n);
        const { exact } = mrrFigures(parts);
        expect(exact.numerator * common).toBe(naive * exact.denominator);
        expect(mrrFigures([...parts].reverse())).toEqual(mrrFigures(parts));
        expect(parts.reduce(addFractions, { numerator: 0n, denominator: 1n })).toEqual(exact);
      }),
    );
  });
});
