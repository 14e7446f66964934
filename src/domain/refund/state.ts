import type { RefundReason, RefundReference } from './events.js';

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

/** A refund leaves `pending` once, for one of these, and never moves again. */
export const REFUND_TERMINAL_STATUSES: readonly RefundStatus[] = ['succeeded', 'failed', 'canceled'];

export interface ExistingRefund extends RefundReference {
  readonly exists: true;
  readonly status: RefundStatus;
  readonly reason: RefundReason | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** The processor's reference once it has one. */
  readonly providerRefundId: string | null;
  /** Stripe's `failure_reason` when the processor could not refund. */
  readonly failureReason: string | null;
}

export type RefundState = { readonly exists: false } | ExistingRefund;

export const initialRefundState: RefundState = { exists: false };
