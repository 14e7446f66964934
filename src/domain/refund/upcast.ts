import { isCurrencyCode } from '../currency.js';
import { isPaymentId, isRefundId } from '../ids.js';
import { liftToCurrent, type UpcasterTable } from '../upcasting.js';
import type { RefundEvent, RefundEventType } from './events.js';
import { REFUND_EVENT_TYPES, REFUND_REASONS } from './events.js';

/**
 * Old refund event shapes are upcast on read, never rewritten (docs/architecture.md,
 * "Domain"). Every refund event is at version 1, so the table is empty and reading is a check.
 */
const UPCASTERS: UpcasterTable<RefundEventType> = {};

export const CURRENT_REFUND_SCHEMA_VERSION = 1;

export const isRefundEventType = (type: string): type is RefundEventType => (REFUND_EVENT_TYPES as readonly string[]).includes(type);

/** Where JSON from the store becomes a typed refund event; throws on what would make the brands lie. */
export function upcastRefundEvent(type: string, data: unknown, schemaVersion: number): RefundEvent {
  if (!isRefundEventType(type)) throw new Error(`not a refund event: ${type}`);
  const current = liftToCurrent(type, data, schemaVersion, CURRENT_REFUND_SCHEMA_VERSION, UPCASTERS);
  const { refundId, paymentId, customerId, currency, amount } = current;
  if (typeof refundId !== 'string' || !isRefundId(refundId)) throw new Error(`${type} names no refund id: ${String(refundId)}`);
  if (typeof paymentId !== 'string' || !isPaymentId(paymentId)) throw new Error(`${type} of ${refundId} names no payment id`);
  if (typeof customerId !== 'string' || customerId.length === 0) throw new Error(`${type} of ${refundId} names no customer`);
  if (typeof currency !== 'string' || !isCurrencyCode(currency)) throw new Error(`${type} of ${refundId} has no known currency: ${String(currency)}`);
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) throw new Error(`${type} of ${refundId} has no positive integer amount`);
  if (type === 'RefundRequested') {
    const { reason, metadata } = current;
    if (reason !== null && !(REFUND_REASONS as readonly unknown[]).includes(reason)) throw new Error(`${type} of ${refundId} has an unknown reason: ${JSON.stringify(reason)}`);
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new Error(`${type} of ${refundId} has no metadata object`);
  }
  if (type === 'RefundFailed' && typeof current.failureReason !== 'string') throw new Error(`${type} of ${refundId} has no failureReason`);
  return { type, data: current } as unknown as RefundEvent;
}
