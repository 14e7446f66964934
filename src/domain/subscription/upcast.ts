import { isCurrencyCode } from '../currency.js';
import { isInvoiceId, isSubscriptionId } from '../ids.js';
import { liftToCurrent, type UpcasterTable } from '../upcasting.js';
import type { SubscriptionEvent, SubscriptionEventType } from './events.js';
import { SUBSCRIPTION_EVENT_TYPES } from './events.js';

const UPCASTERS: UpcasterTable<SubscriptionEventType> = {};

export const CURRENT_SUBSCRIPTION_SCHEMA_VERSION = 1;

export const isSubscriptionEventType = (type: string): type is SubscriptionEventType => (SUBSCRIPTION_EVENT_TYPES as readonly string[]).includes(type);

const hasPrice = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  const { amount, currency } = value as Record<string, unknown>;
  return typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0 && typeof currency === 'string' && isCurrencyCode(currency);
};

/** Where JSON from the store becomes a typed subscription event; throws on what would make the brands lie. */
export function upcastSubscriptionEvent(type: string, data: unknown, schemaVersion: number): SubscriptionEvent {
  if (!isSubscriptionEventType(type)) throw new Error(`not a subscription event: ${type}`);
  const current = liftToCurrent(type, data, schemaVersion, CURRENT_SUBSCRIPTION_SCHEMA_VERSION, UPCASTERS);
  const { subscriptionId, customerId, invoiceId } = current;
  if (typeof subscriptionId !== 'string' || !isSubscriptionId(subscriptionId)) throw new Error(`${type} names no subscription id: ${String(subscriptionId)}`);
  if (typeof customerId !== 'string' || customerId.length === 0) throw new Error(`${type} of ${subscriptionId} names no customer`);
  if (invoiceId !== undefined && (typeof invoiceId !== 'string' || !isInvoiceId(invoiceId))) throw new Error(`${type} of ${subscriptionId} names no invoice id: ${JSON.stringify(invoiceId)}`);
  if ((type === 'SubscriptionCreated' || type === 'SubscriptionPriceChanged') && !hasPrice(current.price)) throw new Error(`${type} of ${subscriptionId} has no valid price`);
  return { type, data: current } as unknown as SubscriptionEvent;
}
