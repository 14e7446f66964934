import type { DisputeEvent } from './events.js';

/** Every way a dispute command can be refused. */
export type DisputeError =
  /**
   * The processor's view contradicts what we hold (another currency or amount, more than the
   * payment has left to dispute, a won dispute reported lost): not applied, for a person to look at.
   */
  | { readonly code: 'dispute_inconsistent'; readonly message: string };

/**
 * An event that cannot follow the dispute's state (a second opening, an event of another
 * dispute, a change to a closed one): a corrupt or misrouted stream, thrown, never skipped.
 */
export class DisputeEventNotApplicable extends Error {
  override readonly name = 'DisputeEventNotApplicable';
  constructor(
    readonly event: DisputeEvent,
    readonly reason: 'not_opened' | 'already_opened' | 'closed' | 'other_dispute',
    detail: string,
  ) {
    super(`${event.type} cannot apply to dispute ${event.data.disputeId}: ${detail}`);
  }
}
