import { isCurrencyCode } from '../currency.js';
import { isDisputeId, isPaymentId } from '../ids.js';
import { liftToCurrent, type UpcasterTable } from '../upcasting.js';
import type { DisputeEvent, DisputeEventType } from './events.js';
import { DISPUTE_EVENT_TYPES, DISPUTE_STATUSES } from './events.js';
import { isTerminalDisputeStatus } from './state.js';

/** Every dispute event is at version 1, so the table is empty and reading is a check. */
const UPCASTERS: UpcasterTable<DisputeEventType> = {};

export const CURRENT_DISPUTE_SCHEMA_VERSION = 1;

export const isDisputeEventType = (type: string): type is DisputeEventType => (DISPUTE_EVENT_TYPES as readonly string[]).includes(type);

const isStatus = (value: unknown): boolean => (DISPUTE_STATUSES as readonly unknown[]).includes(value);
const isMinor = (value: unknown): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Where JSON from the store becomes a typed dispute event; throws on what would make the brands lie. */
export function upcastDisputeEvent(type: string, data: unknown, schemaVersion: number): DisputeEvent {
  if (!isDisputeEventType(type)) throw new Error(`not a dispute event: ${type}`);
  const d = liftToCurrent(type, data, schemaVersion, CURRENT_DISPUTE_SCHEMA_VERSION, UPCASTERS);
  const id = d.disputeId;
  if (typeof id !== 'string' || !isDisputeId(id)) throw new Error(`${type} names no dispute id: ${String(id)}`);
  if (typeof d.paymentId !== 'string' || !isPaymentId(d.paymentId)) throw new Error(`${type} of ${id} names no payment id`);
  if (typeof d.customerId !== 'string' || d.customerId.length === 0) throw new Error(`${type} of ${id} names no customer`);
  if (typeof d.currency !== 'string' || !isCurrencyCode(d.currency)) throw new Error(`${type} of ${id} has no known currency: ${String(d.currency)}`);
  if (!isMinor(d.amount) || d.amount === 0) throw new Error(`${type} of ${id} has no positive integer amount`);
  if (typeof d.providerDisputeId !== 'string') throw new Error(`${type} of ${id} has no providerDisputeId`);
  if (!isStatus(d.status)) throw new Error(`${type} of ${id} has an unknown status: ${JSON.stringify(d.status)}`);
  if (!isMinor(d.feeAmount)) throw new Error(`${type} of ${id} has no non-negative integer feeAmount`);
  if (typeof d.reason !== 'string') throw new Error(`${type} of ${id} has no reason`);
  if (d.evidenceDueBy !== null && typeof d.evidenceDueBy !== 'string') throw new Error(`${type} of ${id} has a bad evidenceDueBy`);
  if (type === 'DisputeOpened') {
    if (typeof d.providerPaymentId !== 'string') throw new Error(`${type} of ${id} has no providerPaymentId`);
    if (typeof d.openedAt !== 'string') throw new Error(`${type} of ${id} has no openedAt`);
  } else {
    if (!isStatus(d.previousStatus)) throw new Error(`${type} of ${id} has an unknown previousStatus`);
    if (!isMinor(d.previousFeeAmount)) throw new Error(`${type} of ${id} has no previousFeeAmount`);
    if ((type === 'DisputeClosed') !== isTerminalDisputeStatus(d.status as never)) throw new Error(`${type} of ${id} has status ${String(d.status)}`);
  }
  return { type, data: d } as unknown as DisputeEvent;
}
