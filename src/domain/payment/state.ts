import type { CancellationReason, PaymentDetails } from './events.js';

export type PaymentStatus = 'requires_capture' | 'succeeded' | 'partially_refunded' | 'refunded' | 'canceled' | 'failed';

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
}

export type PaymentState = { readonly exists: false } | ExistingPayment;

export const initialState: PaymentState = { exists: false };
