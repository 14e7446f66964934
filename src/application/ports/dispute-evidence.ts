import type { ProviderDisputeSnapshot } from './dispute-commands.js';

export type EvidenceSubmission =
  /** The processor took the evidence; its view of the dispute afterwards. */
  | { readonly kind: 'submitted'; readonly snapshot: ProviderDisputeSnapshot }
  /**
   * The processor refused: the dispute no longer takes evidence there (closed, or evidence
   * already submitted) although our copy still said it did. Its current view, so that ours catches up.
   */
  | { readonly kind: 'not_accepting'; readonly snapshot: ProviderDisputeSnapshot }
  /** This processor adapter cannot submit evidence for this dispute (the simulated one, for another processor's). */
  | { readonly kind: 'unsupported' };

/** Sends a dispute's evidence to the processor (Stripe's `disputes.update({ evidence, submit: true })`). */
export interface DisputeEvidenceProvider {
  /**
   * `idempotencyKey` derives from the command (its Idempotency-Key, when it has one): a
   * retried command, or a retried HTTP attempt, submits at most once.
   */
  submitEvidence(dispute: ProviderDisputeSnapshot, text: string, idempotencyKey: string): Promise<EvidenceSubmission>;
}
