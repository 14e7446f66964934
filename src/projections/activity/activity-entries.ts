import { toDomainEvent } from '../../application/payments/payment-stream.js';
import { toRefundEvent } from '../../application/refunds/refund-stream.js';
import type { ActivityEntry, ActivityRecord, ActivityType } from '../../application/ports/activity-feed.js';
import type { RecordedEvent } from '../../application/ports/event-store.js';
import { formatPosition } from '../../application/ports/position.js';
import { INVOICE_EVENT_TYPES, isInvoiceEventType, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import type { PaymentEvent } from '../../domain/payment/index.js';
import type { RefundEvent } from '../../domain/refund/events.js';
import { SUBSCRIPTION_EVENT_TYPES, isSubscriptionEventType, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import { DISPUTE_EVENT_TYPES, isDisputeEventType, upcastDisputeEvent } from '../../domain/dispute/index.js';
import type { BillingEntry } from './billing-activity-entries.js';
import { disputeEntry } from './dispute-activity-entries.js';
import { invoiceEntry, subscriptionEntry } from './billing-activity-entries.js';
import { formatMinor } from './money-text.js';

export { formatMinor } from './money-text.js';

/*
 * Event → timeline entry, pure and deterministic: a rebuild and a replay after a crash map
 * the same event to the same entry, which is what makes insert-only writes keyed by the
 * event id idempotent. RefundCanceled has no entry (the issue lists requested, succeeded
 * and failed); neither have the reservation events on the payment stream, which are
 * bookkeeping, not something the customer did or saw. Subscription and invoice entries are
 * in billing-activity-entries.ts.
 */

/** The event types that make an entry; everything else is read past. */
export const ACTIVITY_EVENT_TYPES: readonly string[] = [
  'PaymentAuthorized',
  'PaymentCaptured',
  'PaymentCanceled',
  'PaymentFailed',
  'RefundRequested',
  'RefundSucceeded',
  'RefundFailed',
  ...SUBSCRIPTION_EVENT_TYPES,
  // An attempt shows as its payment's own entries.
  ...INVOICE_EVENT_TYPES.filter((type) => type !== 'InvoicePaymentAttempted'),
  ...DISPUTE_EVENT_TYPES,
];

const ENTRY_EVENT_TYPES: ReadonlySet<string> = new Set(ACTIVITY_EVENT_TYPES);

const SORT_KEY_DIGITS = 20;

/**
 * A position as a string that sorts like the position (both halves zero-padded to the
 * width of a u64), for stores whose indexes cannot order two bigints.
 */
export const positionSortKey = (p: { commit: bigint; prepare: bigint }): string =>
  `${p.commit.toString().padStart(SORT_KEY_DIGITS, '0')}.${p.prepare.toString().padStart(SORT_KEY_DIGITS, '0')}`;

/** The timeline entry for `recorded`, or undefined when the event makes none. */
export function activityRecordOf(recorded: RecordedEvent): ActivityRecord | undefined {
  if (!ENTRY_EVENT_TYPES.has(recorded.type)) return undefined;
  const base = { id: recorded.id, occurredAt: recorded.metadata.occurredAt, position: formatPosition(recorded.position) };
  if (isSubscriptionEventType(recorded.type)) return billingRecord(base, subscriptionEntry(upcastSubscriptionEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion)));
  if (isInvoiceEventType(recorded.type)) return billingRecord(base, invoiceEntry(upcastInvoiceEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion)));
  if (isDisputeEventType(recorded.type)) {
    const made = disputeEntry(upcastDisputeEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion));
    return made && record(made.customerId, base, made.type, made.fields);
  }
  if (recorded.type.startsWith('Payment')) return paymentRecord(base, toDomainEvent(recorded));
  return refundRecord(base, toRefundEvent(recorded));
}

function billingRecord(base: Base, made: BillingEntry | undefined): ActivityRecord | undefined {
  return made && record(made.customerId, base, made.type, made.fields);
}

type Base = Pick<ActivityEntry, 'id' | 'occurredAt' | 'position'>;

function record(customerId: string, base: Base, type: ActivityType, rest: Omit<ActivityEntry, keyof Base | 'type'>): ActivityRecord {
  return { customerId, entry: { ...base, type, ...rest } };
}

function paymentRecord(base: Base, event: PaymentEvent): ActivityRecord | undefined {
  const { paymentId, customerId, currency } = event.data;
  const common = { paymentId, currency };
  switch (event.type) {
    case 'PaymentAuthorized':
      return record(customerId, base, 'payment.created', {
        ...common, amount: event.data.amount, summary: `Payment of ${formatMinor(event.data.amount, currency)} authorized`,
      });
    case 'PaymentCaptured':
      return record(customerId, base, 'payment.captured', {
        ...common, amount: event.data.amount, summary: `Payment of ${formatMinor(event.data.amount, currency)} captured`,
      });
    case 'PaymentCanceled':
      return record(customerId, base, 'payment.canceled', {
        ...common, amount: event.data.amountReleased, summary: `Payment canceled, ${formatMinor(event.data.amountReleased, currency)} released`,
      });
    case 'PaymentFailed':
      return record(customerId, base, 'payment.failed', {
        ...common, amount: event.data.amount, summary: `Payment of ${formatMinor(event.data.amount, currency)} failed: ${event.data.failureMessage}`,
      });
    case 'PaymentRefundReserved':
    case 'PaymentRefundSettled':
    case 'PaymentRefundReleased':
      // The refund's own events tell the customer's story; the payment's bookkeeping of them does not.
      return undefined;
    case 'PaymentRequested':
    case 'PaymentCaptureRequested':
    case 'PaymentCancelRequested':
    case 'PaymentOperationRefused':
      // Intent first: a request is our bookkeeping before asking the processor; its outcome makes the entry.
      return undefined;
  }
}

function refundRecord(base: Base, event: RefundEvent): ActivityRecord | undefined {
  const { refundId, paymentId, customerId, amount, currency } = event.data;
  const common = { paymentId, refundId, amount, currency };
  const shown = formatMinor(amount, currency);
  switch (event.type) {
    case 'RefundRequested':
      return record(customerId, base, 'refund.requested', { ...common, summary: `Refund of ${shown} requested` });
    case 'RefundSucceeded':
      return record(customerId, base, 'refund.succeeded', { ...common, summary: `Refund of ${shown} succeeded` });
    case 'RefundFailed':
      return record(customerId, base, 'refund.failed', { ...common, summary: `Refund of ${shown} failed: ${event.data.failureReason}` });
    case 'RefundCanceled':
      return undefined;
  }
}
