import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BillingInterval, Recurrence } from '../../src/domain/billing/recurrence.js';
import { MAX_INTERVAL_COUNT, periodBoundary, periodContaining, periodsPerMonth, recurrence } from '../../src/domain/billing/recurrence.js';

const iso = (at: Date): string => at.toISOString();
const boundaries = (anchor: string, r: Recurrence, n: number): string[] => Array.from({ length: n }, (_, i) => iso(periodBoundary(new Date(anchor), r, i)));
const monthly: Recurrence = { interval: 'month', intervalCount: 1 };

describe('billing periods, as Stripe anchors them', () => {
  it('a monthly subscription anchored on Jan 31 renews on the last day of short months and goes back to the 31st', () => {
    expect(boundaries('2025-01-31T10:15:00.000Z', monthly, 6)).toEqual([
      '2025-01-31T10:15:00.000Z',
      '2025-02-28T10:15:00.000Z',
      '2025-03-31T10:15:00.000Z',
      '2025-04-30T10:15:00.000Z',
      '2025-05-31T10:15:00.000Z',
      '2025-06-30T10:15:00.000Z',
    ]);
    expect(iso(periodBoundary(new Date('2024-01-31T00:00:00Z'), monthly, 1))).toBe('2024-02-29T00:00:00.000Z');
  });

  it('a yearly subscription anchored on Feb 29 renews Feb 28, and Feb 29 again in the next leap year', () => {
    expect(boundaries('2024-02-29T00:00:00.000Z', { interval: 'year', intervalCount: 1 }, 5)).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
  });

  it('every 3 months from Nov 30 crosses the year and clamps February', () => {
    expect(boundaries('2025-11-30T00:00:00.000Z', { interval: 'month', intervalCount: 3 }, 4)).toEqual([
      '2025-11-30T00:00:00.000Z',
      '2026-02-28T00:00:00.000Z',
      '2026-05-30T00:00:00.000Z',
      '2026-08-30T00:00:00.000Z',
    ]);
  });

  it('days and weeks are exact multiples of 24 hours', () => {
    expect(boundaries('2025-03-29T12:00:00.000Z', { interval: 'week', intervalCount: 2 }, 3)).toEqual([
      '2025-03-29T12:00:00.000Z',
      '2025-04-12T12:00:00.000Z',
      '2025-04-26T12:00:00.000Z',
    ]);
    expect(iso(periodBoundary(new Date('2025-12-31T23:59:59.000Z'), { interval: 'day', intervalCount: 1 }, 1))).toBe('2026-01-01T23:59:59.000Z');
  });

  it('refuses intervals Stripe refuses: more than a year, zero, fractions, unknown units', () => {
    expect(recurrence('month', 12).ok).toBe(true);
    expect(recurrence('week', 52).ok).toBe(true);
    expect(recurrence('day', 365).ok).toBe(true);
    for (const [interval, count] of [['month', 13], ['week', 53], ['day', 366], ['year', 2], ['month', 0], ['month', 1.5], ['fortnight', 1], ['month', '1']] as const) {
      expect(recurrence(interval, count)).toMatchObject({ ok: false, error: { code: 'invalid_recurrence' } });
    }
  });

  it('normalises every interval to a month for MRR: a year counts 1/12, a week 52/12', () => {
    expect(periodsPerMonth({ interval: 'year', intervalCount: 1 })).toEqual({ numerator: 1, denominator: 12 });
    expect(periodsPerMonth({ interval: 'week', intervalCount: 1 })).toEqual({ numerator: 52, denominator: 12 });
    expect(periodsPerMonth({ interval: 'month', intervalCount: 3 })).toEqual({ numerator: 1, denominator: 3 });
  });
});

const anyRecurrence = fc
  .constantFrom<BillingInterval>('day', 'week', 'month', 'year')
  .chain((interval) => fc.integer({ min: 1, max: MAX_INTERVAL_COUNT[interval] }).map((intervalCount): Recurrence => ({ interval, intervalCount })));
const anyAnchor = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true });

describe('billing period properties', () => {
  it('boundaries strictly increase, keep the time of day, and months keep the anchor day unless the month is shorter', () => {
    fc.assert(
      fc.property(anyAnchor, anyRecurrence, fc.integer({ min: 0, max: 120 }), (anchor, r, index) => {
        const start = periodBoundary(anchor, r, index);
        const end = periodBoundary(anchor, r, index + 1);
        expect(end.getTime()).toBeGreaterThan(start.getTime());
        expect(end.getTime() % 86_400_000).toBe(anchor.getTime() % 86_400_000);
        if (r.interval === 'month' || r.interval === 'year') {
          const lastDay = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
          expect(end.getUTCDate()).toBe(Math.min(anchor.getUTCDate(), lastDay));
        }
      }),
    );
  });

  it('the period containing a moment starts at or before it and ends after it', () => {
    fc.assert(
      fc.property(anyAnchor, anyRecurrence, fc.integer({ min: 0, max: 20 * 365 * 86_400_000 }), (anchor, r, offset) => {
        const at = new Date(anchor.getTime() + offset);
        const p = periodContaining(anchor, r, at);
        expect(p.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(p.end.getTime()).toBeGreaterThan(at.getTime());
        expect(p.start.getTime()).toBe(periodBoundary(anchor, r, p.index).getTime());
      }),
    );
  });
});
