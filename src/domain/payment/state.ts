import type { CancellationReason, PaymentDetails } from './events.js';

/** `processing`: created (PaymentRequested), the processor's answer not yet recorded (Stripe's name for it). */
export type PaymentStatus = 'processing' | 'requires_capture' | 'succeeded' | 'partially_refunded' | 'refunded' | 'canceled' | 'failed';

/** Statuses from which no command moves the payment (a succeeded payment can still be refunded). */
export const TERMINAL_STATUSES: readonly PaymentStatus[] = ['refunded', 'canceled', 'failed'];

/** Statuses that accept a refund reservation. */
export const REFUNDABLE_STATUSES: readonly PaymentStatus[] = ['succeeded', 'partially_refunded'];

/**
 * One refund's claim on the payment's money (two-phase, like a pending transfer): `open`
 * while the refund is in flight, then `settled` (the money went back) or `released`.
 * Closed entries are kept so that a settle or release is exact and a repeat is recognised.
 */
export interface RefundReservationEntry {
  readonly amount: number;
  readonly status: 'open' | 'settled' | 'released';
}

/**
 * What we asked the processor for and have not yet recorded an answer to (intent first:
 * the request event is written before the call). While one is pending, no other command
 * that would reach the processor is decided: a capture and a cancel can never both go out.
 */
export type PendingOperation =
  | { readonly operation: 'create' }
  | { readonly operation: 'capture'; readonly amount: number }
  | { readonly operation: 'cancel'; readonly reason: CancellationReason | null };

export interface PaymentFailure {
  readonly code: string;
  readonly declineCode: string | null;
  readonly message: string;
}

/** A payment's details as created, plus what has happened to its money since. */
export interface ExistingPayment extends PaymentDetails {
  readonly exists: true;
  readonly status: PaymentStatus;
  readonly amountCapturable: number;
  readonly amountCaptured: number;
  readonly amountReleased: number;
  /** Settled refunds: money given back to the cardholder. */
  readonly amountRefunded: number;
  /** Every refund reservation ever made on this payment, by refund id. */
  readonly refundReservations: Readonly<Record<string, RefundReservationEntry>>;
  /** The processor's reference; null when it declined without creating one. */
  readonly providerPaymentId: string | null;
  readonly failure: PaymentFailure | null;
  readonly cancellationReason: CancellationReason | null;
  /** The operation requested from the processor and not yet answered; null when none. */
  readonly pendingOperation: PendingOperation | null;
}

export type PaymentState = { readonly exists: false } | ExistingPayment;

export const initialState: PaymentState = { exists: false };
