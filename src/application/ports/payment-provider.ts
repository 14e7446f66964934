import type { AuthorizationOutcome, PaymentDetails } from '../../domain/payment/index.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { ProviderPaymentSnapshot } from '../../domain/payment/provider-sync.js';
import type { ProviderDisputeSnapshot } from './dispute-commands.js';

/**
 * The card processor, shaped after Stripe's PaymentIntents: authorize creates an intent
 * confirmed with a payment method; capture (full or partial) and cancel act on it.
 * Every call carries an idempotency key so a retried command never charges twice.
 */
export interface AuthorizeRequest extends Omit<PaymentDetails, 'paymentId'> {
  readonly idempotencyKey: string;
  /**
   * Saved cards (from PaymentDetails, as the request recorded them): charge the payment
   * method as saved to this processor customer, and, off-session, without the customer
   * present, so a card that needs authentication declines (`authentication_required`).
   */
  readonly providerCustomerId?: string | null;
  readonly offSession?: boolean;
  /** Our payment's id, for the processor's records (Stripe metadata); the handler always passes it. */
  readonly paymentId?: string;
}

/** Approved or declined, as the decider takes it; or a request the processor would not even consider. */
export type AuthorizeResult =
  | AuthorizationOutcome
  /** The request itself was wrong (unknown payment method, unsupported currency): nothing was created. */
  | { readonly status: 'invalid_request'; readonly param: string; readonly message: string };

export type ProviderActionResult =
  | { readonly status: 'ok' }
  | { readonly status: 'failed'; readonly code: string; readonly message: string };

/**
 * What the processor says about a refund. Stripe's refunds can stay `pending` and resolve
 * later (a card that cannot take the money back fails asynchronously): ask again with
 * retrieveRefund until the answer is final.
 */
export type ProviderRefundResult =
  | { readonly status: 'succeeded'; readonly providerRefundId: string }
  | { readonly status: 'pending'; readonly providerRefundId: string }
  | { readonly status: 'failed'; readonly providerRefundId: string; readonly failureReason: string };

export interface ProviderRefundRequest {
  readonly providerPaymentId: string;
  readonly amount: number;
  readonly currency: string;
  /** The same key is the same refund: a retry after a crash never refunds twice. */
  readonly idempotencyKey: string;
  /** Our ids, for the processor's records (Stripe metadata). */
  readonly refundId?: string;
  readonly paymentId?: string;
}

export interface PaymentProvider {
  readonly name: string;
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult>;
  cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult>;
  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult>;
  retrieveRefund(providerRefundId: string): Promise<ProviderRefundResult>;

  // ---- lookups for the inbound path (Stripe webhooks): the processor's current view ----
  /** The payment as the processor sees it now; `not_found` for an id it does not know. */
  retrievePayment(providerPaymentId: string): Promise<ProviderLookup<ProviderPaymentView>>;
  /** The dispute as the processor sees it now; `not_found` for an id it does not know. */
  retrieveDispute(providerDisputeId: string): Promise<ProviderLookup<ProviderDisputeSnapshot>>;
  /** A refund with its amount and payment, for one made at the processor without us (the Stripe dashboard). */
  retrieveRefundDetails(providerRefundId: string): Promise<ProviderLookup<ProviderRefundView>>;
}

/** A refund at the processor, in our minor units. */
export interface ProviderRefundView {
  readonly providerRefundId: string;
  readonly providerPaymentId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  /** `canceled` and `requires_action` are the processor's own; a final failure is `failed`. */
  readonly status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action';
  /** When the processor made it (ISO 8601). */
  readonly createdAt: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export type ProviderLookup<T> = { readonly status: 'found'; readonly value: T } | { readonly status: 'not_found' };

/** A payment at the processor: the snapshot provider-sync.ts reconciles with, and the metadata that names our payment. */
export interface ProviderPaymentView extends ProviderPaymentSnapshot {
  /** What we sent at authorize (`paymentId`, `customerId`, …); a payment made elsewhere has none of ours. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The provider could not be reached or answered with a server error: the command may be retried. */
export class ProviderUnavailable extends Error {
  override readonly name = 'ProviderUnavailable';
}
