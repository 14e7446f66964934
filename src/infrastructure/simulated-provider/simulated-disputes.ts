import { createHash } from 'node:crypto';
import type { ProviderDisputeSnapshot } from '../../application/ports/dispute-commands.js';
import type { DisputeEvidenceProvider, EvidenceSubmission } from '../../application/ports/dispute-evidence.js';
import type { CurrencyCode } from '../../domain/currency.js';

/*
 * The simulated processor's disputes, stateless like the rest of it: what a dispute does
 * travels in the ids. A pm_card_createDispute intent's id starts with DISPUTED_INTENT_PREFIX;
 * once captured, the cardholder disputes the whole captured amount, as Stripe's test card
 * does: reason `fraudulent`, status `needs_response`, evidence due 7 days after the
 * capture, and a fee of SIMULATED_DISPUTE_FEE_MINOR minor units of the payment's currency
 * (Stripe charges 15.00 USD; a fixed count of minor units keeps it an integer in every currency).
 */

/** Intents of pm_card_createDispute (still `pi_sim_…`, so capture, cancel and refund treat them as any other). */
export const DISPUTED_INTENT_PREFIX = 'pi_sim_dp_';
/** Refunds of such intents: refused (`charge_disputed`), as Stripe refuses to refund a disputed charge. */
export const DISPUTED_REFUND_PREFIX = 're_sim_dp_';
export const SIMULATED_DISPUTE_FEE_MINOR = 1_500;
export const SIMULATED_EVIDENCE_DAYS = 7;

/** Stripe test mode's evidence texts: the dispute is decided at once. */
export const WINNING_EVIDENCE = 'winning_evidence';
export const LOSING_EVIDENCE = 'losing_evidence';

const DAY_MS = 86_400_000;

export const isDisputedIntent = (providerPaymentId: string | null): boolean => providerPaymentId !== null && providerPaymentId.startsWith(DISPUTED_INTENT_PREFIX);

/** The dispute the simulated processor opens for a captured pm_card_createDispute intent: the same one every time it is asked. */
export function simulatedDisputeOf(capture: { readonly providerPaymentId: string; readonly amount: number; readonly currency: CurrencyCode; readonly capturedAt: string }): ProviderDisputeSnapshot {
  const createdAt = new Date(capture.capturedAt);
  return {
    providerDisputeId: `dp_sim_${createHash('sha256').update(capture.providerPaymentId).digest('hex').slice(0, 24)}`,
    providerPaymentId: capture.providerPaymentId,
    amount: capture.amount,
    currency: capture.currency,
    status: 'needs_response',
    reason: 'fraudulent',
    feeAmount: SIMULATED_DISPUTE_FEE_MINOR,
    evidenceDueBy: new Date(createdAt.getTime() + SIMULATED_EVIDENCE_DAYS * DAY_MS).toISOString(),
    createdAt: createdAt.toISOString(),
  };
}

/**
 * Evidence as Stripe's test mode takes it: `winning_evidence` wins, `losing_evidence` loses,
 * anything else puts the dispute under review (where a real processor would decide later).
 * The fee is kept either way. Only disputes of the simulated processor's intents.
 */
export class SimulatedDisputeEvidence implements DisputeEvidenceProvider {
  submitEvidence(dispute: ProviderDisputeSnapshot, text: string): Promise<EvidenceSubmission> {
    if (!dispute.providerPaymentId.startsWith('pi_sim_')) return Promise.resolve({ kind: 'unsupported' });
    const said = text.trim();
    // An inquiry (warning_*) that is answered closes as an inquiry, or escalates when lost.
    const inquiry = dispute.status.startsWith('warning_');
    const status = said === WINNING_EVIDENCE ? (inquiry ? 'warning_closed' : 'won') : said === LOSING_EVIDENCE ? 'lost' : inquiry ? 'warning_under_review' : 'under_review';
    return Promise.resolve({ kind: 'submitted', snapshot: { ...dispute, status } });
  }
}
