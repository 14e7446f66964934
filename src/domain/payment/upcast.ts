import { isCurrencyCode } from '../currency.js';
import { isPaymentId, isRefundId } from '../ids.js';
import { liftToCurrent, type UpcasterTable } from '../upcasting.js';
import type { PaymentEvent, PaymentEventType } from './events.js';
import { PAYMENT_EVENT_TYPES } from './events.js';
import { PAYMENT_REFUND_EVENT_TYPES } from './refund-events.js';

/**
 * Old event shapes are upcast on read, never rewritten. Each entry lifts one schema
 * version of one event type to the next; today every payment event is at version 1, so
 * the table is empty and reading is a type check.
 */
const UPCASTERS: UpcasterTable<PaymentEventType> = {};

export const CURRENT_SCHEMA_VERSION = 1;

export const isPaymentEventType = (type: string): type is PaymentEventType =>
  (PAYMENT_EVENT_TYPES as readonly string[]).includes(type);

/**
 * Where JSON from the store becomes a typed event. Throws on an unknown type, a version
 * from the future, or ids the brands would lie about: each means a bug or a bad deploy.
 */
export function upcastPaymentEvent(type: string, data: unknown, schemaVersion: number): PaymentEvent {
  if (!isPaymentEventType(type)) throw new Error(`not a payment event: ${type}`);
  const current = liftToCurrent(type, data, schemaVersion, CURRENT_SCHEMA_VERSION, UPCASTERS);
  const { paymentId, currency } = current;
  if (typeof paymentId !== 'string' || !isPaymentId(paymentId)) throw new Error(`${type} names no payment id: ${String(paymentId)}`);
  if (typeof currency !== 'string' || !isCurrencyCode(currency)) throw new Error(`${type} of ${paymentId} has no known currency: ${String(currency)}`);
  if ((PAYMENT_REFUND_EVENT_TYPES as readonly string[]).includes(type)) {
    const { refundId, amount } = current;
    if (typeof refundId !== 'string' || !isRefundId(refundId)) throw new Error(`${type} of ${paymentId} names no refund id: ${String(refundId)}`);
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) throw new Error(`${type} of ${paymentId} has no integer amount`);
  }
  return { type, data: current } as PaymentEvent;
}
