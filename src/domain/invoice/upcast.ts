import { isCurrencyCode } from '../currency.js';
import { isInvoiceId, isPaymentId, isSubscriptionId } from '../ids.js';
import { liftToCurrent, type UpcasterTable } from '../upcasting.js';
import type { InvoiceEvent, InvoiceEventType } from './events.js';
import { INVOICE_EVENT_TYPES } from './events.js';

const UPCASTERS: UpcasterTable<InvoiceEventType> = {};

export const CURRENT_INVOICE_SCHEMA_VERSION = 1;

export const isInvoiceEventType = (type: string): type is InvoiceEventType => (INVOICE_EVENT_TYPES as readonly string[]).includes(type);

/** Where JSON from the store becomes a typed invoice event; throws on what would make the brands lie. */
export function upcastInvoiceEvent(type: string, data: unknown, schemaVersion: number): InvoiceEvent {
  if (!isInvoiceEventType(type)) throw new Error(`not an invoice event: ${type}`);
  const current = liftToCurrent(type, data, schemaVersion, CURRENT_INVOICE_SCHEMA_VERSION, UPCASTERS);
  const { invoiceId, subscriptionId, customerId, currency, paymentId } = current;
  if (typeof invoiceId !== 'string' || !isInvoiceId(invoiceId)) throw new Error(`${type} names no invoice id: ${String(invoiceId)}`);
  if (typeof subscriptionId !== 'string' || !isSubscriptionId(subscriptionId)) throw new Error(`${type} of ${invoiceId} names no subscription id`);
  if (typeof customerId !== 'string' || customerId.length === 0) throw new Error(`${type} of ${invoiceId} names no customer`);
  if (typeof currency !== 'string' || !isCurrencyCode(currency)) throw new Error(`${type} of ${invoiceId} has no known currency: ${String(currency)}`);
  if (paymentId !== undefined && paymentId !== null && (typeof paymentId !== 'string' || !isPaymentId(paymentId))) throw new Error(`${type} of ${invoiceId} names no payment id`);
  if (type === 'InvoiceIssued' && (typeof current.total !== 'number' || !Number.isSafeInteger(current.total) || current.total < 0)) throw new Error(`${type} of ${invoiceId} has no valid total`);
  return { type, data: current } as unknown as InvoiceEvent;
}
