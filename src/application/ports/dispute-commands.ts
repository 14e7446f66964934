import type { DisputeSnapshot as ProviderDisputeSnapshot } from '../../domain/dispute/decider.js';
import type { Result } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import type { Position } from './position.js';

/**
 * Disputes (chargebacks) are opened by the cardholder's bank, never by us: the processor tells
 * us (a Stripe `charge.dispute.*` webhook, or the simulated provider's `pm_card_createDispute`)
 * and we bring our dispute in line with what it says. Both inbound paths go through this one
 * command, so it must be safe in any order and any number of times: it is given the
 * processor's *current* view of the dispute, never a delta.
 */

/** Stripe's statuses and the processor's view of a dispute are the domain's (src/domain/dispute). */
export type { DisputeStatus } from '../../domain/dispute/events.js';
export type { DisputeSnapshot as ProviderDisputeSnapshot } from '../../domain/dispute/decider.js';

export type DisputeSyncError =
  /** No payment of ours has this processor id: the dispute is for something made elsewhere (the Stripe dashboard). */
  | { readonly code: 'payment_not_found'; readonly providerPaymentId: string }
  /** The snapshot contradicts the dispute or payment we hold (another currency, more than was captured): recorded, not applied. */
  | { readonly code: 'dispute_inconsistent'; readonly message: string }
  | { readonly code: 'concurrency_conflict'; readonly attempts: number };

export interface DisputeSyncSuccess {
  /** Our id for the dispute (`dp_…`), derived from the processor's id so every path finds the same one. */
  readonly disputeId: string;
  readonly paymentId: string;
  /** False when our dispute already said everything the snapshot says (a duplicate or an older, out-of-order view). */
  readonly changed: boolean;
  /** The position of the write when `changed`. */
  readonly position: Position | null;
}

export interface DisputeCommands {
  /**
   * Brings our dispute in line with the processor's snapshot: opens it when new, moves its
   * status forward, records fee changes. A terminal dispute (`won`, `lost`) never moves again.
   */
  syncFromProvider(snapshot: ProviderDisputeSnapshot, ctx: CommandContext): Promise<Result<DisputeSyncSuccess, DisputeSyncError>>;
}
