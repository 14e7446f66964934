import type { Result } from '../result.js';
import { err, ok } from '../result.js';

/*
 * When a subscription's periods start and end. Stripe's rules (docs/architecture.md,
 * "Subscriptions"): every boundary is computed from the anchor (the subscription's first
 * period start), never from the previous boundary, and a month that lacks the anchor's day
 * ends on its last day. A monthly subscription anchored on Jan 31 renews Feb 28 (29 in a
 * leap year), Mar 31, Apr 30, May 31: the short month does not drag the later ones back.
 * Years work the same way (a Feb 29 anchor renews Feb 28, then Feb 29 again when there is
 * one). Days and weeks are exact multiples of 24 hours. All arithmetic is UTC, and the
 * time of day of the anchor is kept.
 */

export type BillingInterval = 'day' | 'week' | 'month' | 'year';
export const BILLING_INTERVALS: readonly BillingInterval[] = ['day', 'week', 'month', 'year'];

export interface Recurrence {
  readonly interval: BillingInterval;
  readonly intervalCount: number;
}

/** Stripe's bound: no period longer than a year (365 days, 52 weeks, 12 months, 1 year). */
export const MAX_INTERVAL_COUNT: Readonly<Record<BillingInterval, number>> = Object.freeze({ day: 365, week: 52, month: 12, year: 1 });

export type RecurrenceError = { readonly code: 'invalid_recurrence'; readonly message: string };

export function recurrence(interval: string, intervalCount: unknown = 1): Result<Recurrence, RecurrenceError> {
  if (!(BILLING_INTERVALS as readonly string[]).includes(interval)) {
    return err({ code: 'invalid_recurrence', message: `interval must be one of ${BILLING_INTERVALS.join(', ')}` });
  }
  const max = MAX_INTERVAL_COUNT[interval as BillingInterval];
  if (typeof intervalCount !== 'number' || !Number.isInteger(intervalCount) || intervalCount < 1 || intervalCount > max) {
    return err({ code: 'invalid_recurrence', message: `intervalCount must be an integer from 1 to ${max} for interval ${interval}` });
  }
  return ok({ interval: interval as BillingInterval, intervalCount });
}

const DAY_MS = 86_400_000;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** `anchor` plus `months` calendar months, the day clamped to the target month's last day. */
export function addMonthsClamped(anchor: Date, months: number): Date {
  const total = anchor.getUTCMonth() + months;
  const year = anchor.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month));
  const at = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  at.setUTCFullYear(year, month, day);
  at.setUTCHours(anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds(), anchor.getUTCMilliseconds());
  return at;
}

/** Start of period `index` (0 = the anchor's own period); its end is the start of `index + 1`. */
export function periodBoundary(anchor: Date, r: Recurrence, index: number): Date {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`period index must be a non-negative integer, not ${index}`);
  const steps = index * r.intervalCount;
  switch (r.interval) {
    case 'day':
      return new Date(anchor.getTime() + steps * DAY_MS);
    case 'week':
      return new Date(anchor.getTime() + steps * 7 * DAY_MS);
    case 'month':
      return addMonthsClamped(anchor, steps);
    case 'year':
      return addMonthsClamped(anchor, steps * 12);
  }
}

export interface BillingPeriod {
  readonly index: number;
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
}

export function period(anchor: Date, r: Recurrence, index: number): BillingPeriod {
  return { index, start: periodBoundary(anchor, r, index), end: periodBoundary(anchor, r, index + 1) };
}

/** Average period length, only to guess an index that the exact boundaries then correct. */
const APPROXIMATE_MS: Readonly<Record<BillingInterval, number>> = { day: DAY_MS, week: 7 * DAY_MS, month: 30.436875 * DAY_MS, year: 365.2425 * DAY_MS };

/** The period `[start, end)` that holds `at`; `at` before the anchor is a caller's bug. */
export function periodContaining(anchor: Date, r: Recurrence, at: Date): BillingPeriod {
  const elapsed = at.getTime() - anchor.getTime();
  if (elapsed < 0) throw new RangeError(`${at.toISOString()} is before the anchor ${anchor.toISOString()}`);
  let index = Math.max(0, Math.floor(elapsed / (APPROXIMATE_MS[r.interval] * r.intervalCount)));
  // The estimate is off by at most one or two periods (month lengths vary by 3 days).
  while (index > 0 && periodBoundary(anchor, r, index).getTime() > at.getTime()) index--;
  while (periodBoundary(anchor, r, index + 1).getTime() <= at.getTime()) index++;
  return period(anchor, r, index);
}

/** How many periods of `r` make a month, as a fraction: what MRR normalises by (a year 1/12, a week 52/12). */
export function periodsPerMonth(r: Recurrence): { readonly numerator: number; readonly denominator: number } {
  switch (r.interval) {
    case 'day':
      return { numerator: 365, denominator: 12 * r.intervalCount };
    case 'week':
      return { numerator: 52, denominator: 12 * r.intervalCount };
    case 'month':
      return { numerator: 1, denominator: r.intervalCount };
    case 'year':
      return { numerator: 1, denominator: 12 * r.intervalCount };
  }
}
