import { currencyExponent, isCurrencyCode } from '../../domain/currency.js';

/**
 * Stripe counts amounts in its own minor units, which mostly but not always match ISO 4217's
 * (which our Money uses): Stripe treats MGA as zero-decimal (ISO: 2), and represents ISK
 * with two decimals that are always 00 (ISO: 0). Its three-decimal currencies take amounts
 * whose last digit is 0. See Stripe's "Supported currencies" page.
 */
const STRIPE_ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

export const stripeExponent = (currency: string): number => {
  if (STRIPE_ZERO_DECIMAL.has(currency)) return 0;
  if (STRIPE_THREE_DECIMAL.has(currency)) return 3;
  return 2;
};

export type StripeAmount =
  | { readonly ok: true; readonly amount: number; readonly currency: string }
  | { readonly ok: false; readonly message: string };

/** Our minor units as Stripe's, exactly, or why they cannot be (a fraction of Stripe's unit, a non-zero last digit in a three-decimal currency). */
export function toStripeAmount(amount: number, currency: string): StripeAmount {
  const code = currency.toUpperCase();
  if (!isCurrencyCode(code)) return { ok: false, message: `Unknown currency: ${currency}` };
  const ours = currencyExponent(code);
  const theirs = stripeExponent(code);
  let converted: bigint;
  if (theirs >= ours) {
    converted = BigInt(amount) * 10n ** BigInt(theirs - ours);
  } else {
    const divisor = 10n ** BigInt(ours - theirs);
    if (BigInt(amount) % divisor !== 0n) {
      return { ok: false, message: `Stripe counts ${code} in whole units of 10^-${theirs}; ${amount} minor units (exponent ${ours}) is not a whole number of them` };
    }
    converted = BigInt(amount) / divisor;
  }
  if (theirs === 3 && converted % 10n !== 0n) {
    return { ok: false, message: `Stripe takes ${code} amounts whose last digit is 0; ${amount} is not one` };
  }
  if (converted > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, message: `${amount} ${code} is too large for Stripe` };
  return { ok: true, amount: Number(converted), currency: code.toLowerCase() };
}
