import type { RefundId } from '../ids.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { RefundError } from './errors.js';
import { RefundEventNotApplicable } from './errors.js';
import type { RefundEvent, RefundReference, RefundRequested } from './events.js';
import type { ExistingRefund, RefundState } from './state.js';
import { initialRefundState } from './state.js';

/** Opens the refund from its reservation on the payment (which carries reason and metadata). */
export interface RequestRefund {
  readonly type: 'RequestRefund';
  readonly request: RefundRequested['data'];
}

/** What the processor said, once it said something final. */
export type RefundOutcome =
  | { readonly status: 'succeeded'; readonly providerRefundId: string }
  | { readonly status: 'failed'; readonly providerRefundId: string | null; readonly failureReason: string };

export interface RecordRefundOutcome {
  readonly type: 'RecordRefundOutcome';
  readonly refundId: RefundId;
  readonly outcome: RefundOutcome;
}

/** Withdraws a refund the processor never acted on. */
export interface CancelRefund {
  readonly type: 'CancelRefund';
  readonly refundId: RefundId;
}

export type RefundCommand = RequestRefund | RecordRefundOutcome | CancelRefund;

/** What every later event repeats of the refund. Field by field: folds run it per event. */
export const refundReferenceOf = (r: RefundReference): RefundReference => ({
  refundId: r.refundId,
  paymentId: r.paymentId,
  customerId: r.customerId,
  amount: r.amount,
  currency: r.currency,
});

function pending(state: RefundState, event: RefundEvent): ExistingRefund {
  if (!state.exists) throw new RefundEventNotApplicable(event, 'not_created', 'the refund was never requested');
  if (state.refundId !== event.data.refundId) throw new RefundEventNotApplicable(event, 'other_refund', `the stream is refund ${state.refundId}`);
  if (state.status !== 'pending') throw new RefundEventNotApplicable(event, 'not_pending', `the refund is already ${state.status}`);
  return state;
}

/** The one fold of a refund: the handlers, the process manager and the read models use it. */
export function evolveRefund(state: RefundState, event: RefundEvent): ExistingRefund {
  switch (event.type) {
    case 'RefundRequested': {
      if (state.exists) throw new RefundEventNotApplicable(event, 'already_created', 'the refund was already requested');
      const d = event.data;
      return {
        exists: true,
        ...refundReferenceOf(d),
        status: 'pending',
        reason: d.reason,
        metadata: d.metadata,
        providerRefundId: null,
        failureReason: null,
      };
    }
    case 'RefundSucceeded':
      return { ...pending(state, event), status: 'succeeded', providerRefundId: event.data.providerRefundId };
    case 'RefundFailed':
      return { ...pending(state, event), status: 'failed', providerRefundId: event.data.providerRefundId, failureReason: event.data.failureReason };
    case 'RefundCanceled':
      return { ...pending(state, event), status: 'canceled' };
  }
}

export const foldRefund = (events: readonly RefundEvent[], from: RefundState = initialRefundState): RefundState =>
  events.reduce<RefundState>(evolveRefund, from);

/**
 * Decides a refund command. An outcome the refund already has is no event at all (a
 * process manager and the HTTP handler may both report it); another outcome is refused.
 */
export function decideRefund(state: RefundState, cmd: RefundCommand): Result<RefundEvent[], RefundError> {
  if (cmd.type === 'RequestRefund') {
    if (state.exists) return err({ code: 'refund_already_exists', refundId: state.refundId });
    return ok([{ type: 'RefundRequested', data: cmd.request }]);
  }
  if (!state.exists) return err({ code: 'refund_not_found', refundId: cmd.refundId });
  const wanted = cmd.type === 'CancelRefund' ? 'canceled' : cmd.outcome.status;
  if (state.status === wanted) return ok([]);
  if (state.status !== 'pending') return err({ code: 'refund_already_final', refundId: state.refundId, status: state.status });
  const ref = refundReferenceOf(state);
  if (cmd.type === 'CancelRefund') return ok([{ type: 'RefundCanceled', data: ref }]);
  const o = cmd.outcome;
  return ok([
    o.status === 'succeeded'
      ? { type: 'RefundSucceeded', data: { ...ref, providerRefundId: o.providerRefundId } }
      : { type: 'RefundFailed', data: { ...ref, providerRefundId: o.providerRefundId, failureReason: o.failureReason } },
  ]);
}
