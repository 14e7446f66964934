import type { BillingPeriod } from './recurrence.js';

/*
 * Proration (docs/architecture.md, "Subscriptions"). A price change at `at` within a period
 * credits the unused part of the old price and charges the rest of the period at the new
 * one. Times count in whole seconds (Stripe's timestamps are seconds; `at` is truncated to
 * its second), and each amount is rounded on its own, half up, to the currency's minor unit:
 * amount × remaining seconds / period seconds. Amounts are already integer minor units, so
 * the same rule serves JPY (no decimals), USD (two) and BHD (three); the arithmetic is in
 * BigInt, so nothing is lost whatever the amount or the period's length.
 */

/** `amount × part / whole`, rounded half up; exact for any safe integers. */
export function prorate(amount: number, partSeconds: number, wholeSeconds: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount must be a non-negative integer, not ${amount}`);
  if (!Number.isSafeInteger(wholeSeconds) || wholeSeconds <= 0) throw new RangeError(`the period must last at least a second, not ${wholeSeconds}`);
  if (!Number.isSafeInteger(partSeconds) || partSeconds < 0 || partSeconds > wholeSeconds) {
    throw new RangeError(`part must be between 0 and ${wholeSeconds} seconds, not ${partSeconds}`);
  }
  const numerator = 2n * BigInt(amount) * BigInt(partSeconds) + BigInt(wholeSeconds);
  return Number(numerator / (2n * BigInt(wholeSeconds)));
}

const seconds = (at: Date): number => Math.floor(at.getTime() / 1000);

export interface Proration {
  /** Unused time of the old price, returned: a credit in minor units (≥ 0). */
  readonly credit: number;
  /** The rest of the period at the new price, in minor units (≥ 0). */
  readonly charge: number;
  /** The seconds the change covers: from `at` to the period's end. */
  readonly remainingSeconds: number;
  readonly periodSeconds: number;
}

/** The two line items of changing from `oldAmount` to `newAmount` at `at`, within `period`. */
export function prorationForChange(oldAmount: number, newAmount: number, current: BillingPeriod, at: Date): Proration {
  const start = seconds(current.start);
  const end = seconds(current.end);
  const now = seconds(at);
  if (now < start || now >= end) throw new RangeError(`${at.toISOString()} is outside the period [${current.start.toISOString()}, ${current.end.toISOString()})`);
  const periodSeconds = end - start;
  const remainingSeconds = end - now;
  return {
    credit: prorate(oldAmount, remainingSeconds, periodSeconds),
    charge: prorate(newAmount, remainingSeconds, periodSeconds),
    remainingSeconds,
    periodSeconds,
  };
}
