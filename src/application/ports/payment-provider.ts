import type { AuthorizationOutcome, PaymentDetails } from '../../domain/payment/index.js';

/**
 * The card processor, shaped after Stripe's PaymentIntents: authorize creates an intent
 * confirmed with a payment method; capture (full or partial) and cancel act on it.
 * Every call carries an idempotency key so a retried command never charges twice.
 */
export interface AuthorizeRequest extends Omit<PaymentDetails, 'paymentId'> {
  readonly idempotencyKey: string;
}

/** Approved or declined, as the decider takes it; or a request the processor would not even consider. */
export type AuthorizeResult =
  | AuthorizationOutcome
  /** The request itself was wrong (unknown payment method, unsupported currency): nothing was created. */
  | { readonly status: 'invalid_request'; readonly param: string; readonly message: string };

export type ProviderActionResult =
  | { readonly status: 'ok' }
  | { readonly status: 'failed'; readonly code: string; readonly message: string };

export interface PaymentProvider {
  readonly name: string;
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult>;
  cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult>;
}

/** The provider could not be reached or answered with a server error: the command may be retried. */
export class ProviderUnavailable extends Error {
  override readonly name = 'ProviderUnavailable';
}
