import type { ExistingRefund, RefundEvent, RefundState } from '../../domain/refund/index.js';
import { evolveRefund, initialRefundState, upcastRefundEvent } from '../../domain/refund/index.js';
import type { EventStore, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import type { RefundView } from './refund-view.js';

/** A refund as loaded from its stream: the folded state plus what the API shows around it. */
export interface LoadedRefund {
  readonly state: RefundState;
  readonly revision: StreamRevision | undefined;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
  readonly lastPosition: Position | undefined;
  readonly recorded: readonly RecordedEvent[];
}

export const toRefundEvent = (e: RecordedEvent): RefundEvent => upcastRefundEvent(e.type, e.data, e.metadata.schemaVersion);

export async function loadRefund(store: EventStore, streamId: string): Promise<LoadedRefund> {
  const { revision, events } = await store.readStream(streamId);
  let state: RefundState = initialRefundState;
  for (const e of events) state = evolveRefund(state, toRefundEvent(e));
  const last = events.at(-1);
  return {
    state,
    revision,
    createdAt: events[0]?.metadata.occurredAt,
    updatedAt: last?.metadata.occurredAt,
    lastPosition: last?.position,
    recorded: events,
  };
}

/** The refund as the API shows it; field by field, in the order of the JSON clients see. */
export function toRefundView(state: ExistingRefund, revision: bigint, createdAt: string, updatedAt: string): RefundView {
  return {
    id: state.refundId,
    object: 'refund',
    paymentId: state.paymentId,
    customerId: state.customerId,
    amount: state.amount,
    currency: state.currency,
    status: state.status,
    reason: state.reason,
    failureReason: state.failureReason,
    metadata: state.metadata,
    revision: revision.toString(),
    createdAt,
    updatedAt,
  };
}

/** The view of a loaded refund that exists; undefined when the stream is empty. */
export function viewOfLoaded(loaded: LoadedRefund): RefundView | undefined {
  if (!loaded.state.exists || loaded.revision === undefined || !loaded.createdAt || !loaded.updatedAt) return undefined;
  return toRefundView(loaded.state, loaded.revision, loaded.createdAt, loaded.updatedAt);
}
