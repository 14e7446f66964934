import Stripe from 'stripe';
import type { ProviderDisputeSnapshot } from '../../application/ports/dispute-commands.js';
import type { DisputeEvidenceProvider, EvidenceSubmission } from '../../application/ports/dispute-evidence.js';
import type { Config } from '../config/config.js';
import type { StripeProviderOptions } from './stripe-client.js';
import { stripeClient } from './stripe-client.js';
import { stripeOptionsFrom } from './stripe-provider-from-config.js';
import type { RetryPolicy } from './stripe-retry.js';
import { withRetries } from './stripe-retry.js';
import { disputeSnapshotOf } from './stripe-snapshots.js';


/** Stripe's dispute statuses that take evidence; any other refuses an update with a 400. */
const ACCEPTING: readonly string[] = ['needs_response', 'warning_needs_response'];

/**
 * Dispute evidence on Stripe (docs/architecture.md, "Disputes"): the text goes as
 * `evidence.uncategorized_text` with `submit: true` (Stripe's default, said explicitly: staged
 * evidence would leave the dispute waiting for a second call). Stripe answers with the
 * dispute, `under_review` (or `warning_under_review` for an inquiry); the bank's decision comes
 * later, by `charge.dispute.closed`. In test mode the text `winning_evidence` or
 * `losing_evidence` decides it, still after the update's answer.
 *
 * A 400 is either a dispute that no longer takes evidence (closed, or evidence already
 * submitted, by the Dashboard or an earlier call, before its webhook reached us) or a request
 * we built wrong. Stripe gives no error code to tell them apart, so the dispute is read back:
 * not accepting evidence, and the refusal is the answer (with Stripe's view, for ours to catch up);
 * still accepting, and the 400 is ours to fix, so it propagates.
 */
export class StripeDisputeEvidence implements DisputeEvidenceProvider {
  private readonly stripe: Stripe;
  private readonly retry: RetryPolicy;

  constructor(options: StripeProviderOptions) {
    ({ stripe: this.stripe, retry: this.retry } = stripeClient(options));
  }

  async submitEvidence(dispute: ProviderDisputeSnapshot, text: string, idempotencyKey: string): Promise<EvidenceSubmission> {
    try {
      const updated = await withRetries('submitDisputeEvidence', this.retry, () => this.stripe.disputes.update(
        dispute.providerDisputeId,
        { evidence: { uncategorized_text: text }, submit: true },
        { idempotencyKey },
      ));
      return { kind: 'submitted', snapshot: disputeSnapshotOf(updated) };
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.statusCode !== 400) throw error;
      const current = await withRetries('retrieveDispute', this.retry, () => this.stripe.disputes.retrieve(dispute.providerDisputeId));
      if (ACCEPTING.includes(current.status)) throw error;
      return { kind: 'not_accepting', snapshot: disputeSnapshotOf(current) };
    }
  }
}

/** The evidence adapter as configured, with the same connection settings as the payment provider. */
export function stripeDisputeEvidenceFrom(config: Config): StripeDisputeEvidence {
  return new StripeDisputeEvidence(stripeOptionsFrom(config));
}
