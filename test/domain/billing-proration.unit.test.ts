import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prorate, prorationForChange } from '../../src/domain/billing/proration.js';
import { MAX_AMOUNT_MINOR } from '../../src/domain/money.js';

const DAY = 86_400;
const periodOf = (start: string, end: string) => ({ index: 0, start: new Date(start), end: new Date(end) });

describe('proration: to the second, each amount rounded half up to the minor unit', () => {
  it('JPY (no decimals): an upgrade from ¥1,000 to ¥2,000 with a third of a 30-day month left', () => {
    const period = periodOf('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z');
    const p = prorationForChange(1_000, 2_000, period, new Date('2026-04-21T00:00:00Z'));
    // 1000 × 10/30 = 333.33… → 333; 2000 × 10/30 = 666.66… → 667
    expect(p).toEqual({ credit: 333, charge: 667, remainingSeconds: 10 * DAY, periodSeconds: 30 * DAY });
  });

  it('USD (cents): an exact half cent rounds up', () => {
    const period = periodOf('2026-06-01T00:00:00Z', '2026-07-01T00:00:00Z');
    // $19.99 × 15/30 = 999.5 cents → 1000; $5.00 × 15/30 = 250
    expect(prorationForChange(1_999, 500, period, new Date('2026-06-16T00:00:00Z'))).toMatchObject({ credit: 1_000, charge: 250 });
  });

  it('BHD (fils, three decimals): 10.000 BHD with one day of a 31-day month left', () => {
    const period = periodOf('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
    // 10000 × 86400 / 2678400 = 322.58… → 323 fils; 25.125 BHD → 810.48… → 810 fils
    expect(prorationForChange(10_000, 25_125, period, new Date('2026-01-31T00:00:00Z'))).toMatchObject({ credit: 323, charge: 810 });
  });

  it('counts whole seconds: milliseconds of the change time do not matter', () => {
    const period = periodOf('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z');
    expect(prorationForChange(1_000, 2_000, period, new Date('2026-04-21T00:00:00.999Z'))).toEqual(
      prorationForChange(1_000, 2_000, period, new Date('2026-04-21T00:00:00.000Z')),
    );
  });

  it('refuses a change time outside the period', () => {
    const period = periodOf('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z');
    expect(() => prorationForChange(1, 1, period, new Date('2026-05-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => prorationForChange(1, 1, period, new Date('2026-03-31T23:59:59Z'))).toThrow(RangeError);
  });
});

describe('prorate properties', () => {
  const amount = fc.integer({ min: 0, max: MAX_AMOUNT_MINOR });
  const span = fc.integer({ min: 1, max: 366 * DAY }).chain((whole) => fc.tuple(fc.constant(whole), fc.integer({ min: 0, max: whole })));

  it('is the exact quotient rounded half up, even where amount × seconds exceeds 2^53', () => {
    fc.assert(
      fc.property(amount, span, (a, [whole, part]) => {
        const result = BigInt(prorate(a, part, whole));
        const exact2 = 2n * BigInt(a) * BigInt(part); // twice the exact numerator
        const w = BigInt(whole);
        // result = floor(exact + 1/2)  ⇔  2·w·result ≤ 2·a·part + w < 2·w·(result + 1)
        expect(2n * w * result <= exact2 + w).toBe(true);
        expect(exact2 + w < 2n * w * (result + 1n)).toBe(true);
      }),
    );
  });

  it('never exceeds the amount, is zero for no time and the whole amount for the whole period, and grows with time', () => {
    fc.assert(
      fc.property(amount, span, (a, [whole, part]) => {
        const p = prorate(a, part, whole);
        expect(p).toBeLessThanOrEqual(a);
        expect(prorate(a, 0, whole)).toBe(0);
        expect(prorate(a, whole, whole)).toBe(a);
        if (part < whole) expect(prorate(a, part + 1, whole)).toBeGreaterThanOrEqual(p);
      }),
    );
  });
});
