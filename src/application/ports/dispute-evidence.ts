import type { ProviderDisputeSnapshot } from './dispute-commands.js';

export type EvidenceSubmission =
  /** The processor took the evidence; its view of the dispute afterwards. */
  | { readonly kind: 'submitted'; readonly snapshot: ProviderDisputeSnapshot }
  /** This processor adapter cannot submit evidence (the Stripe adapter does not yet). */
  | { readonly kind: 'unsupported' };

/** Sends a dispute's evidence to the processor (Stripe's `disputes.update({ evidence, submit: true })`). */
export interface DisputeEvidenceProvider {
  submitEvidence(dispute: ProviderDisputeSnapshot, text: string): Promise<EvidenceSubmission>;
}
