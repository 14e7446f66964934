import type { RefundEvent } from './events.js';
import type { RefundStatus } from './state.js';

/** Every way a refund command can be refused. */
export type RefundError =
  | { readonly code: 'refund_already_exists'; readonly refundId: string }
  | { readonly code: 'refund_not_found'; readonly refundId: string }
  /** The refund already left `pending` another way: terminal states stay terminal. */
  | { readonly code: 'refund_already_final'; readonly refundId: string; readonly status: RefundStatus };

/**
 * An event that cannot follow the refund's state (a second creation, an outcome after an
 * outcome, an event of another refund): a corrupt or misrouted stream, thrown, never skipped.
 */
export class RefundEventNotApplicable extends Error {
  override readonly name = 'RefundEventNotApplicable';
  constructor(
    readonly event: RefundEvent,
    readonly reason: 'not_created' | 'already_created' | 'not_pending' | 'other_refund',
    detail: string,
  ) {
    super(`${event.type} cannot apply to refund ${event.data.refundId}: ${detail}`);
  }
}
