import { currencyExponent, isCurrencyCode } from '../../domain/currency.js';
import type { SubscriptionPrice } from '../../domain/subscription/index.js';

/** "1250" USD → "12.50 USD"; integer arithmetic on the digits, no floats near money. */
export function formatMinor(amount: number, currency: string): string {
  const exponent = isCurrencyCode(currency) ? currencyExponent(currency) : 2;
  const digits = Math.abs(Math.trunc(amount)).toString().padStart(exponent + 1, '0');
  const units = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${amount < 0 ? '-' : ''}${units} ${currency}`;
}

/** "20.00 USD every month", "90.00 USD every 3 months". */
export function formatPrice(price: SubscriptionPrice): string {
  const every = price.intervalCount === 1 ? price.interval : `${price.intervalCount} ${price.interval}s`;
  return `${formatMinor(price.amount, price.currency)} every ${every}`;
}
