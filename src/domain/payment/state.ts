import type { CancellationReason, PaymentDetails } from './events.js';

export type PaymentStatus = 'requires_capture' | 'succeeded' | 'canceled' | 'failed';

/** Statuses from which no command moves the payment. Refunds act on succeeded payments, not here. */
export const TERMINAL_STATUSES: readonly PaymentStatus[] = ['succeeded', 'canceled', 'failed'];

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
  /** The processor's reference; null when it declined without creating one. */
  readonly providerPaymentId: string | null;
  readonly failure: PaymentFailure | null;
  readonly cancellationReason: CancellationReason | null;
}

export type PaymentState = { readonly exists: false } | ExistingPayment;

export const initialState: PaymentState = { exists: false };
