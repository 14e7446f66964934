import type { PaymentId, RefundId } from '../../domain/ids.js';

/** Where a refund stands as far as its process manager knows (docs/architecture.md, "Recipes"). */
export type RefundWorkStep = 'request' | 'provider' | 'close';

export interface RefundWorkItem {
  readonly refundId: RefundId;
  readonly paymentId: PaymentId;
  /** The PaymentRefundReserved event: what the refund is (re)created from, and what its commands' ids derive from. */
  readonly reservationEventId: string;
  readonly step: RefundWorkStep;
  /** Tries of this step so far (provider calls that were unreachable or still pending). */
  readonly attempts: number;
}

/**
 * The refunds with work left, as the refund_work projection keeps them from the log.
 * Claiming moves an item's due time past a lease in one statement, so no transaction stays
 * open during the provider call and any number of instances can work the queue: two that
 * race on one refund issue the same idempotent commands anyway.
 */
export interface RefundWorkQueue {
  /** Due items (at most `limit`), each hidden from other claimers for `leaseMs`. */
  claimDue(limit: number, leaseMs: number): Promise<RefundWorkItem[]>;
  /** Next try in `delayMs`, unless the log has moved the item to another step meanwhile. */
  reschedule(item: RefundWorkItem, attempts: number, delayMs: number): Promise<void>;
}
