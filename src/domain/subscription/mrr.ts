import type { Recurrence } from '../billing/recurrence.js';
import { periodsPerMonth } from '../billing/recurrence.js';
import type { SubscriptionPrice } from './events.js';
import type { SubscriptionStatus } from './state.js';

/*
 * Monthly recurring revenue, exactly (docs/architecture.md, "Subscriptions", MRR). A price
 * becomes a month's worth as `amount × periodsPerMonth` (a year 1/12, a week 52/12, a day
 * 365/12, each divided by intervalCount): a fraction of a minor unit in general, so every
 * contribution stays a fraction of BigInts and a total is rounded once, half up, to the
 * minor unit. ARR is 12 × the exact total, rounded once too (not 12 × the rounded MRR).
 */

/** A non-negative fraction of minor units. Denominator > 0. */
export interface MinorFraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** As Stripe counts MRR: active and past_due subscriptions pay (or owe) their price; nothing else does. */
export const MRR_STATUSES: readonly SubscriptionStatus[] = ['active', 'past_due'];

export const countsInMrr = (status: SubscriptionStatus): boolean => MRR_STATUSES.includes(status);

/**
 * What one period of `price` is worth per month, unreduced: the denominator is
 * periodsPerMonth's (at most 12 × 365), so totals can be grouped by it.
 */
export function monthlyAmount(price: Pick<SubscriptionPrice, 'amount' | 'interval' | 'intervalCount'>): MinorFraction {
  const r: Recurrence = { interval: price.interval, intervalCount: price.intervalCount };
  const { numerator, denominator } = periodsPerMonth(r);
  return { numerator: BigInt(price.amount) * BigInt(numerator), denominator: BigInt(denominator) };
}

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

export const ZERO: MinorFraction = { numerator: 0n, denominator: 1n };

/** a + b, reduced (so a sum of many terms keeps a denominator no larger than their lcm). */
export function addFractions(a: MinorFraction, b: MinorFraction): MinorFraction {
  const common = a.denominator * (b.denominator / gcd(a.denominator, b.denominator));
  const numerator = a.numerator * (common / a.denominator) + b.numerator * (common / b.denominator);
  const g = gcd(numerator, common);
  return g === 0n ? ZERO : { numerator: numerator / g, denominator: common / g };
}

/** The nearest integer to a non-negative fraction, halves away from zero. */
export function roundHalfUp(f: MinorFraction): bigint {
  if (f.numerator < 0n || f.denominator <= 0n) throw new RangeError('roundHalfUp takes a non-negative fraction with a positive denominator');
  return (2n * f.numerator + f.denominator) / (2n * f.denominator);
}

export interface MrrFigures {
  /** The exact sum, for auditing a rounding. */
  readonly exact: MinorFraction;
  readonly mrr: bigint;
  /** 12 × exact, rounded once. */
  readonly arr: bigint;
}

/** Sums contributions exactly, then rounds MRR and ARR once each. */
export function mrrFigures(contributions: Iterable<MinorFraction>): MrrFigures {
  let exact = ZERO;
  for (const c of contributions) exact = addFractions(exact, c);
  return { exact, mrr: roundHalfUp(exact), arr: roundHalfUp({ numerator: 12n * exact.numerator, denominator: exact.denominator }) };
}
