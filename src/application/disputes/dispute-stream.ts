import type { DisputeEvent, DisputeState, ExistingDispute } from '../../domain/dispute/index.js';
import { evolveDispute, initialDisputeState, upcastDisputeEvent } from '../../domain/dispute/index.js';
import type { EventStore, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import type { DisputeView } from './dispute-view.js';

/** A dispute as loaded from its stream: the folded state plus what the API shows around it. */
export interface LoadedDispute {
  readonly state: DisputeState;
  readonly revision: StreamRevision | undefined;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
  readonly lastPosition: Position | undefined;
}

export const toDisputeEvent = (e: RecordedEvent): DisputeEvent => upcastDisputeEvent(e.type, e.data, e.metadata.schemaVersion);

export async function loadDispute(store: EventStore, streamId: string): Promise<LoadedDispute> {
  const { revision, events } = await store.readStream(streamId);
  let state: DisputeState = initialDisputeState;
  for (const e of events) state = evolveDispute(state, toDisputeEvent(e));
  const last = events.at(-1);
  return { state, revision, createdAt: events[0]?.metadata.occurredAt, updatedAt: last?.metadata.occurredAt, lastPosition: last?.position };
}

/** The dispute as the API shows it; field by field, in the order of the JSON clients see. */
export function toDisputeView(state: ExistingDispute, revision: bigint, createdAt: string, updatedAt: string): DisputeView {
  return {
    id: state.disputeId,
    object: 'dispute',
    paymentId: state.paymentId,
    customerId: state.customerId,
    amount: state.amount,
    currency: state.currency,
    status: state.status,
    reason: state.reason,
    feeAmount: state.feeAmount,
    evidenceDueBy: state.evidenceDueBy,
    openedAt: state.openedAt,
    revision: revision.toString(),
    createdAt,
    updatedAt,
  };
}

/** The view of a loaded dispute that exists; undefined when the stream is empty. */
export function viewOfLoadedDispute(loaded: LoadedDispute): DisputeView | undefined {
  if (!loaded.state.exists || loaded.revision === undefined || !loaded.createdAt || !loaded.updatedAt) return undefined;
  return toDisputeView(loaded.state, loaded.revision, loaded.createdAt, loaded.updatedAt);
}
