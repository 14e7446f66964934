import { createHash } from 'node:crypto';
import type { ProviderDisputeSnapshot } from '../../application/ports/dispute-commands.js';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  PaymentProvider,
  ProviderActionResult,
  ProviderLookup,
  ProviderPaymentView,
  ProviderRefundView,
  ProviderRefundRequest,
  ProviderRefundResult,
} from '../../application/ports/payment-provider.js';
import { testCardOutcome } from './test-cards.js';
import { DISPUTED_INTENT_PREFIX, DISPUTED_REFUND_PREFIX, isDisputedIntent } from './simulated-disputes.js';

const digest = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 24);

/** Intents of pm_card_refundFail, and the refunds of them: pending, then failed when asked again. */
const REFUND_FAILS_PREFIX = 'pi_sim_rf_';
const FAILING_REFUND_PREFIX = 're_sim_rf_';
const REFUND_PREFIX = 're_sim_';

/**
 * A card processor in test mode, with no network: the default provider. Stateless, so
 * any number of service instances agree, and deterministic in the idempotency key, so a
 * retried authorization yields the same provider id as Stripe would.
 */
export class SimulatedPaymentProvider implements PaymentProvider {
  readonly name = 'simulated';

  authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const outcome = testCardOutcome(request.paymentMethod);
    if (!outcome) {
      return Promise.resolve({
        status: 'invalid_request',
        param: 'paymentMethod',
        message: `No such PaymentMethod: '${request.paymentMethod}'. Test payment methods include pm_card_visa and pm_card_chargeDeclined.`,
      });
    }
    const hash = digest(request.idempotencyKey);
    // Stateless: what the card does to refunds later travels in the intent's own id.
    if (outcome.kind === 'approve_refunds_fail') return Promise.resolve({ status: 'approved', providerPaymentId: `${REFUND_FAILS_PREFIX}${hash}` });
    if (outcome.kind === 'approve_disputed') return Promise.resolve({ status: 'approved', providerPaymentId: `${DISPUTED_INTENT_PREFIX}${hash}` });
    const providerPaymentId = `pi_sim_${hash}`;
    if (outcome.kind === 'approve') return Promise.resolve({ status: 'approved', providerPaymentId });
    return Promise.resolve({
      status: 'declined',
      providerPaymentId,
      failureCode: outcome.failureCode,
      declineCode: outcome.declineCode,
      message: outcome.message,
    });
  }

  capture(request: { providerPaymentId: string; amount: number }): Promise<ProviderActionResult> {
    if (!request.providerPaymentId.startsWith('pi_sim_')) {
      return Promise.resolve({ status: 'failed', code: 'resource_missing', message: `No such PaymentIntent: '${request.providerPaymentId}'` });
    }
    return Promise.resolve({ status: 'ok' });
  }

  cancel(request: { providerPaymentId: string }): Promise<ProviderActionResult> {
    if (!request.providerPaymentId.startsWith('pi_sim_')) {
      return Promise.resolve({ status: 'failed', code: 'resource_missing', message: `No such PaymentIntent: '${request.providerPaymentId}'` });
    }
    return Promise.resolve({ status: 'ok' });
  }

  /**
   * Succeeds at once, except on a pm_card_refundFail intent: then the refund is `pending`
   * and retrieveRefund reports it failed (`expired_or_canceled_card`), as Stripe's test card
   * fails asynchronously. The refund id is a digest of the idempotency key: same key, same refund.
   */
  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    if (!request.providerPaymentId.startsWith('pi_sim_')) {
      return Promise.reject(new Error(`No such PaymentIntent: '${request.providerPaymentId}'`));
    }
    const hash = digest(request.idempotencyKey);
    // A pm_card_createDispute charge is disputed from its capture on: Stripe refuses to refund a disputed charge.
    if (isDisputedIntent(request.providerPaymentId)) return Promise.resolve({ status: 'failed', providerRefundId: `${DISPUTED_REFUND_PREFIX}${hash}`, failureReason: 'charge_disputed' });
    if (request.providerPaymentId.startsWith(REFUND_FAILS_PREFIX)) return Promise.resolve({ status: 'pending', providerRefundId: `${FAILING_REFUND_PREFIX}${hash}` });
    return Promise.resolve({ status: 'succeeded', providerRefundId: `${REFUND_PREFIX}${hash}` });
  }

  retrieveRefund(providerRefundId: string): Promise<ProviderRefundResult> {
    if (providerRefundId.startsWith(FAILING_REFUND_PREFIX)) {
      return Promise.resolve({ status: 'failed', providerRefundId, failureReason: 'expired_or_canceled_card' });
    }
    if (providerRefundId.startsWith(DISPUTED_REFUND_PREFIX)) return Promise.resolve({ status: 'failed', providerRefundId, failureReason: 'charge_disputed' });
    if (providerRefundId.startsWith(REFUND_PREFIX)) return Promise.resolve({ status: 'succeeded', providerRefundId });
    return Promise.reject(new Error(`No such refund: '${providerRefundId}'`));
  }

  /**
   * The simulated processor keeps no state and sends no webhooks, so nothing asks it what a
   * payment or dispute is now; an id it never made is `not_found`, one of its own is an
   * error that says so (a caller that gets here is a bug, and it should be loud).
   */
  retrievePayment(providerPaymentId: string): Promise<ProviderLookup<ProviderPaymentView>> {
    if (!providerPaymentId.startsWith('pi_sim_')) return Promise.resolve({ status: 'not_found' });
    return Promise.reject(new Error(`the simulated provider keeps no state: it cannot say what ${providerPaymentId} is now`));
  }

  retrieveDispute(_providerDisputeId: string): Promise<ProviderLookup<ProviderDisputeSnapshot>> {
    return Promise.resolve({ status: 'not_found' });
  }

  /** Every refund of the simulated processor is one of ours (it has no dashboard): nothing to import. */
  retrieveRefundDetails(_providerRefundId: string): Promise<ProviderLookup<ProviderRefundView>> {
    return Promise.resolve({ status: 'not_found' });
  }
}
