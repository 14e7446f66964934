import Stripe from 'stripe';
import type { ProviderDisputeSnapshot } from '../../application/ports/dispute-commands.js';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  PaymentProvider,
  ProviderActionResult,
  ProviderLookup,
  ProviderPaymentView,
  ProviderRefundRequest,
  ProviderRefundResult,
  ProviderRefundView,
} from '../../application/ports/payment-provider.js';
import { toStripeAmount } from './stripe-amounts.js';
import { disputeSnapshotOf, paymentViewOf, refundViewOf } from './stripe-snapshots.js';
import type { RetryPolicy } from './stripe-retry.js';
import { withRetries } from './stripe-retry.js';
import type { StripeProviderOptions } from './stripe-client.js';
import { stripeClient } from './stripe-client.js';

export type { StripeProviderOptions } from './stripe-client.js';

/** Stripe's create parameters that carry the caller's input, under the port's names. */
const CALLER_PARAMS: Readonly<Record<string, string>> = { payment_method: 'paymentMethod', currency: 'currency', customer: 'providerCustomerId' };

/** Stripe's card error for a card that needs the customer to authenticate (off-session, or with error_on_requires_action). */
const AUTHENTICATION_REQUIRED = 'authentication_required';

/**
 * Stripe's own answers that say "not in this state" rather than "your request is malformed":
 * the command reports them (`provider_failed`) instead of crashing.
 */
const STATE_CODES = new Set(['payment_intent_unexpected_state', 'resource_missing', 'amount_too_large', 'charge_already_captured', 'charge_already_refunded']);

/**
 * The payment-provider port on Stripe's PaymentIntents and Refunds (docs/architecture.md,
 * "Stripe"). Every POST carries the port's idempotency key as Stripe's Idempotency-Key, so
 * a retried command, or a retried HTTP attempt, never charges, captures or refunds twice.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe';
  private readonly stripe: Stripe;
  private readonly retry: RetryPolicy;

  constructor(options: StripeProviderOptions) {
    ({ stripe: this.stripe, retry: this.retry } = stripeClient(options));
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const metadata: Record<string, string> = {
      ...request.metadata,
      ...(request.paymentId === undefined ? {} : { paymentId: request.paymentId }),
      customerId: request.customerId,
    };
    const money = toStripeAmount(request.amount, request.currency);
    if (!money.ok) return { status: 'invalid_request', param: 'amount', message: money.message };
    try {
      const intent = await withRetries('authorize', this.retry, () => this.stripe.paymentIntents.create(
        {
          amount: money.amount,
          currency: money.currency,
          payment_method: request.paymentMethod,
          payment_method_types: ['card'],
          capture_method: request.captureMethod,
          confirm: true,
          // A saved card is charged as its customer's: Stripe refuses it without the customer.
          ...(request.providerCustomerId ? { customer: request.providerCustomerId } : {}),
          // Either way a card that needs 3-D Secure declines (`authentication_required`)
          // rather than waiting for a customer this server-side flow cannot reach: off-session
          // (a renewal) says so with `off_session`, which also lets Stripe apply the saved
          // card's exemptions; `error_on_requires_action` may not go with it.
          ...(request.offSession === true ? { off_session: true } : { error_on_requires_action: true }),
          ...(request.description === null ? {} : { description: request.description }),
          metadata,
        },
        { idempotencyKey: request.idempotencyKey },
      ));
      const expected = request.captureMethod === 'manual' ? 'requires_capture' : 'succeeded';
      if (intent.status !== expected) {
        throw new Error(`Stripe PaymentIntent ${intent.id} is ${intent.status} after confirmation; expected ${expected}`);
      }
      return { status: 'approved', providerPaymentId: intent.id };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        return {
          status: 'declined',
          providerPaymentId: error.payment_intent?.id ?? null,
          failureCode: error.code ?? 'card_declined',
          // A card that needs authentication is a decline like any other (dunning retries it), under that code.
          declineCode: error.decline_code ?? (error.code === AUTHENTICATION_REQUIRED ? AUTHENTICATION_REQUIRED : null),
          message: error.message,
        };
      }
      // The port's "the processor would not consider it": an unknown payment method, customer
      // or a currency it refuses. Any other 400 is a request we built wrong: it propagates.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.param !== undefined && Object.hasOwn(CALLER_PARAMS, error.param)) {
        return { status: 'invalid_request', param: CALLER_PARAMS[error.param] as string, message: error.message };
      }
      throw error;
    }
  }

  async capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult> {
    const money = toStripeAmount(request.amount, request.currency);
    if (!money.ok) return { status: 'failed', code: 'amount_not_representable', message: money.message };
    return this.action('capture', async () => {
      const intent = await this.stripe.paymentIntents.capture(
        request.providerPaymentId,
        { amount_to_capture: money.amount },
        { idempotencyKey: request.idempotencyKey },
      );
      if (intent.currency !== money.currency) {
        throw new Error(`Stripe PaymentIntent ${intent.id} is in ${intent.currency}, the capture asked for ${request.currency}`);
      }
    });
  }

  async cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult> {
    const reason = request.reason !== null && isStripeCancellationReason(request.reason) ? request.reason : undefined;
    return this.action('cancel', async () => {
      await this.stripe.paymentIntents.cancel(
        request.providerPaymentId,
        reason === undefined ? {} : { cancellation_reason: reason },
        { idempotencyKey: request.idempotencyKey },
      );
    });
  }

  async refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    const money = toStripeAmount(request.amount, request.currency);
    // Only a partial refund can land here (the payment's own amount passed at authorize): the port has no refusal, so it is loud.
    if (!money.ok) throw new Error(`Stripe cannot refund this amount: ${money.message}`);
    const refund = await withRetries('refund', this.retry, () => this.stripe.refunds.create(
      {
        payment_intent: request.providerPaymentId,
        amount: money.amount,
        metadata: {
          ...(request.refundId === undefined ? {} : { refundId: request.refundId }),
          ...(request.paymentId === undefined ? {} : { paymentId: request.paymentId }),
        },
      },
      { idempotencyKey: request.idempotencyKey },
    ));
    if (refund.currency !== money.currency) {
      throw new Error(`Stripe refund ${refund.id} is in ${refund.currency}, the request asked for ${request.currency}`);
    }
    return refundResult(refund);
  }

  async retrieveRefund(providerRefundId: string): Promise<ProviderRefundResult> {
    // A GET changes nothing: it needs no idempotency key to be retried.
    return refundResult(await withRetries('retrieveRefund', this.retry, () => this.stripe.refunds.retrieve(providerRefundId)));
  }

  async retrievePayment(providerPaymentId: string): Promise<ProviderLookup<ProviderPaymentView>> {
    return this.lookup(() => withRetries('retrievePayment', this.retry, () => this.stripe.paymentIntents.retrieve(providerPaymentId)), paymentViewOf);
  }

  async retrieveDispute(providerDisputeId: string): Promise<ProviderLookup<ProviderDisputeSnapshot>> {
    return this.lookup(() => withRetries('retrieveDispute', this.retry, () => this.stripe.disputes.retrieve(providerDisputeId)), disputeSnapshotOf);
  }

  async retrieveRefundDetails(providerRefundId: string): Promise<ProviderLookup<ProviderRefundView>> {
    return this.lookup(() => withRetries('retrieveRefundDetails', this.retry, () => this.stripe.refunds.retrieve(providerRefundId)), refundViewOf);
  }

  /** A GET of one object: Stripe's `resource_missing` is `not_found`, anything else propagates. */
  private async lookup<S, T>(get: () => Promise<S>, map: (object: S) => T): Promise<ProviderLookup<T>> {
    try {
      return { status: 'found', value: map(await get()) };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing') return { status: 'not_found' };
      throw error;
    }
  }

  private async action(operation: string, call: () => Promise<void>): Promise<ProviderActionResult> {
    try {
      await withRetries(operation, this.retry, call);
      return { status: 'ok' };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code !== undefined && STATE_CODES.has(error.code)) {
        return { status: 'failed', code: error.code, message: error.message };
      }
      throw error;
    }
  }
}

type StripeCancellationReason = 'duplicate' | 'fraudulent' | 'requested_by_customer' | 'abandoned';
const STRIPE_CANCELLATION_REASONS: readonly string[] = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'];
const isStripeCancellationReason = (reason: string): reason is StripeCancellationReason => STRIPE_CANCELLATION_REASONS.includes(reason);

/** Stripe's refund statuses onto the port's: `requires_action` waits like `pending`; `canceled` never returned the money. */
function refundResult(refund: Stripe.Refund): ProviderRefundResult {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'succeeded', providerRefundId: refund.id };
    case 'failed':
      return { status: 'failed', providerRefundId: refund.id, failureReason: refund.failure_reason ?? 'unknown' };
    case 'canceled':
      return { status: 'failed', providerRefundId: refund.id, failureReason: 'canceled' };
    default:
      return { status: 'pending', providerRefundId: refund.id };
  }
}
