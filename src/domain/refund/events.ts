import type { CurrencyCode } from '../currency.js';
import type { PaymentId, RefundId } from '../ids.js';

/**
 * Refund events (stream `refund-<id>`): past-tense facts, plain JSON, integer minor units.
 * Every event repeats the refund's payment, customer, amount and currency, so the ledger,
 * reports and activity feed can act on one event without a lookup.
 *
 * The money a refund may take is reserved on the payment's own stream first (see
 * PaymentRefundReserved in ../payment/refund-events.ts): the payment is the consistency
 * boundary for "refundable", so two concurrent refunds are ordered by its expected revision.
 */
export type RefundReason = 'requested_by_customer' | 'duplicate' | 'fraudulent';
export const REFUND_REASONS: readonly RefundReason[] = ['requested_by_customer', 'duplicate', 'fraudulent'];

export interface RefundReference {
  readonly refundId: RefundId;
  readonly paymentId: PaymentId;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
}

/** The refund exists, `pending`; its amount is already reserved on the payment. */
export interface RefundRequested {
  readonly type: 'RefundRequested';
  readonly data: RefundReference & {
    readonly reason: RefundReason | null;
    readonly metadata: Readonly<Record<string, string>>;
  };
}

/** The processor returned the money to the cardholder. */
export interface RefundSucceeded {
  readonly type: 'RefundSucceeded';
  readonly data: RefundReference & { readonly providerRefundId: string };
}

/** The processor could not return the money (Stripe's `failure_reason`, e.g. `expired_or_canceled_card`). */
export interface RefundFailed {
  readonly type: 'RefundFailed';
  readonly data: RefundReference & {
    readonly providerRefundId: string | null;
    readonly failureReason: string;
  };
}

/** Withdrawn before the processor acted on it. */
export interface RefundCanceled {
  readonly type: 'RefundCanceled';
  readonly data: RefundReference;
}

export type RefundEvent = RefundRequested | RefundSucceeded | RefundFailed | RefundCanceled;
export type RefundEventType = RefundEvent['type'];

export const REFUND_EVENT_TYPES: readonly RefundEventType[] = ['RefundRequested', 'RefundSucceeded', 'RefundFailed', 'RefundCanceled'];
