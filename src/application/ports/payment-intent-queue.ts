import type { PaymentId } from '../../domain/ids.js';

/** A payment with a request to the processor that no outcome has answered yet (docs/architecture.md, "Payments: intent first"). */
export interface PendingPaymentItem {
  readonly paymentId: PaymentId;
  /** The request event (PaymentRequested, PaymentCaptureRequested, PaymentCancelRequested). */
  readonly requestEventId: string;
  readonly operation: 'create' | 'capture' | 'cancel';
  /** Tries so far that found the processor unreachable (or failed otherwise). */
  readonly attempts: number;
}

/**
 * The pending requests, as the payment_intents projection keeps them from the log.
 * Claiming moves an item's due time past a lease in one statement, so no transaction stays
 * open during the processor call.
 */
export interface PaymentIntentQueue {
  /**
   * Items whose request is older than `graceMs` (a request's own command may still be
   * finishing it before that) and that are due; at most `limit`, each hidden from other
   * claimers for `leaseMs`. Oldest first.
   */
  claimDue(limit: number, graceMs: number, leaseMs: number): Promise<PendingPaymentItem[]>;
  /** Next try in `delayMs`, unless the log has moved the payment to another request meanwhile. */
  reschedule(item: PendingPaymentItem, attempts: number, delayMs: number): Promise<void>;
}
