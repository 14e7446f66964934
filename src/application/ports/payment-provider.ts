/**
 * The card processor, shaped after Stripe's PaymentIntents: authorize creates an intent
 * confirmed with a payment method; capture (full or partial) and cancel act on it.
 * Every call carries an idempotency key so a retried command never charges twice.
 */
export interface AuthorizeRequest {
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly captureMethod: 'automatic' | 'manual';
  readonly customerId: string;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly idempotencyKey: string;
}

export type AuthorizeResult =
  | { readonly status: 'approved'; readonly providerPaymentId: string }
  | {
      readonly status: 'declined';
      readonly providerPaymentId: string | null;
      readonly failureCode: string;
      readonly declineCode: string | null;
      readonly message: string;
    }
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
