import type { CaptureMethod, CancellationReason } from './events.js';

export type PaymentStatus = 'requires_capture' | 'succeeded' | 'canceled' | 'failed';

/** Statuses from which no command moves the payment. Refunds act on succeeded payments, not here. */
export const TERMINAL_STATUSES: readonly PaymentStatus[] = ['succeeded', 'canceled', 'failed'];

export interface PaymentFailure {
  readonly code: string;
  readonly declineCode: string | null;
  readonly message: string;
}

export interface ExistingPayment {
  readonly exists: true;
  readonly id: string;
  readonly status: PaymentStatus;
  readonly customerId: string;
  readonly amount: number;
  readonly amountCapturable: number;
  readonly amountCaptured: number;
  readonly amountReleased: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly captureMethod: CaptureMethod;
  readonly providerPaymentId: string | null;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly failure: PaymentFailure | null;
  readonly cancellationReason: CancellationReason | null;
}

export type PaymentState = { readonly exists: false } | ExistingPayment;

export const initialState: PaymentState = { exists: false };
