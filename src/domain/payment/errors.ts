import type { PaymentStatus } from './state.js';

/** Every way a payment command can be refused. Typed, so the HTTP layer maps each to a status. */
export type PaymentError =
  | { readonly code: 'payment_not_found'; readonly paymentId: string }
  | { readonly code: 'payment_already_exists'; readonly paymentId: string }
  | { readonly code: 'invalid_amount'; readonly message: string }
  | { readonly code: 'currency_mismatch'; readonly expected: string; readonly actual: string }
  | { readonly code: 'capture_exceeds_authorized'; readonly requested: number; readonly capturable: number }
  | { readonly code: 'illegal_transition'; readonly from: PaymentStatus; readonly command: string };

export const illegalTransition = (from: PaymentStatus, command: string): PaymentError => ({
  code: 'illegal_transition',
  from,
  command,
});
