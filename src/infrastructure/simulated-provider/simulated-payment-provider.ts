import { createHash } from 'node:crypto';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  PaymentProvider,
  ProviderActionResult,
} from '../../application/ports/payment-provider.js';
import { testCardOutcome } from './test-cards.js';

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
    const providerPaymentId = `pi_sim_${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 24)}`;
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
}
