import type { RecordedEvent } from '../../application/ports/event-store.js';
import { toRefundEvent, toRefundView } from '../../application/refunds/refund-stream.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import type { ExistingRefund, RefundEvent } from '../../domain/refund/index.js';
import { RefundEventNotApplicable, evolveRefund, initialRefundState } from '../../domain/refund/index.js';
import { ProjectionEventError } from '../projection.js';

/*
 * The refund row is the refund aggregate's own fold (docs/architecture.md, "Projections"):
 * toRefundView(evolveRefund(state of the row, event)), as payments do, so a rule about a
 * refund's life is taught once, in src/domain/refund/decider.ts.
 */

/** The typed event (the domain's upcaster), or a ProjectionEventError naming this event (the projection stops there). */
export function refundEventOf(recorded: RecordedEvent): RefundEvent {
  try {
    return toRefundEvent(recorded);
  } catch (error) {
    throw new ProjectionEventError(recorded, error instanceof Error ? error.message : String(error));
  }
}

/**
 * The aggregate's state as the row shows it. The row does not keep the processor's refund
 * id, so it is null here: no view field depends on it, and such a state never reaches a decider.
 */
const refundStateOfView = (view: RefundView): ExistingRefund => ({
  exists: true,
  refundId: view.id,
  paymentId: view.paymentId,
  customerId: view.customerId,
  amount: view.amount,
  currency: view.currency,
  status: view.status,
  reason: view.reason,
  metadata: view.metadata,
  providerRefundId: null,
  failureReason: view.failureReason,
});

/**
 * The refund after `recorded`, or undefined when `prev` already reflects it (a replay: its
 * revision is not newer). An event the aggregate cannot apply (an update of a refund never
 * requested, a second request, a change to a finished refund) stops the projection there.
 */
export function nextRefundView(prev: RefundView | undefined, recorded: RecordedEvent, event: RefundEvent = refundEventOf(recorded)): RefundView | undefined {
  if (prev && BigInt(prev.revision) >= recorded.revision) return undefined;
  const at = recorded.metadata.occurredAt;
  try {
    const state = evolveRefund(prev ? refundStateOfView(prev) : initialRefundState, event);
    return toRefundView(state, recorded.revision, prev?.createdAt ?? at, at);
  } catch (error) {
    if (!(error instanceof RefundEventNotApplicable)) throw error;
    const where = prev ? `refund ${event.data.refundId}` : `refund ${event.data.refundId} is not in the read model`;
    throw new ProjectionEventError(recorded, `${where}: ${error.message}`);
  }
}
