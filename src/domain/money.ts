import type { CurrencyCode } from './currency.js';
import { isCurrencyCode } from './currency.js';
import type { Result } from './result.js';
import { err, ok } from './result.js';

/**
 * The largest amount the ledger accepts in one payment, in minor units. Far above any
 * card network's limit, far below Number.MAX_SAFE_INTEGER so sums of many amounts stay exact.
 */
export const MAX_AMOUNT_MINOR = 999_999_999_999;

/** An integer count of minor units of one currency. There is no float anywhere in here. */
export interface Money {
  readonly amount: number;
  readonly currency: CurrencyCode;
}

export type MoneyError =
  | { readonly code: 'invalid_currency'; readonly currency: string }
  | { readonly code: 'invalid_amount'; readonly amount: unknown; readonly reason: string }
  | { readonly code: 'currency_mismatch'; readonly left: string; readonly right: string };

const isMinorUnits = (amount: unknown): amount is number =>
  typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0 && amount <= MAX_AMOUNT_MINOR;

/** Builds Money from untrusted parts. Zero is allowed here; "must be positive" is a command rule. */
export function money(amount: unknown, currency: string): Result<Money, MoneyError> {
  if (!isCurrencyCode(currency)) return err({ code: 'invalid_currency', currency });
  if (!isMinorUnits(amount)) {
    return err({ code: 'invalid_amount', amount, reason: `must be an integer count of minor units between 0 and ${MAX_AMOUNT_MINOR}` });
  }
  return ok({ amount, currency });
}

/** For values already validated (events read back, literals in tests). Throws on a bug. */
export function moneyOf(amount: number, currency: string): Money {
  const m = money(amount, currency);
  if (!m.ok) throw new Error(`invalid money ${amount} ${currency}: ${m.error.code}`);
  return m.value;
}

function sameCurrency(a: Money, b: Money): MoneyError | undefined {
  return a.currency === b.currency ? undefined : { code: 'currency_mismatch', left: a.currency, right: b.currency };
}

export function add(a: Money, b: Money): Result<Money, MoneyError> {
  const mismatch = sameCurrency(a, b);
  if (mismatch) return err(mismatch);
  return money(a.amount + b.amount, a.currency);
}

export function subtract(a: Money, b: Money): Result<Money, MoneyError> {
  const mismatch = sameCurrency(a, b);
  if (mismatch) return err(mismatch);
  if (b.amount > a.amount) return err({ code: 'invalid_amount', amount: a.amount - b.amount, reason: 'result would be negative' });
  return money(a.amount - b.amount, a.currency);
}

export function compare(a: Money, b: Money): Result<-1 | 0 | 1, MoneyError> {
  const mismatch = sameCurrency(a, b);
  if (mismatch) return err(mismatch);
  return ok(a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0);
}
