import type { ExistingPayment, PaymentEvent, PaymentState } from '../../domain/payment/index.js';
import { evolve, initialState, upcastPaymentEvent } from '../../domain/payment/index.js';
import type { EventStore, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';

/** A payment as loaded from its stream: the folded state plus what the API shows around it. */
export interface LoadedPayment {
  readonly state: PaymentState;
  readonly revision: StreamRevision | undefined;
  readonly eventIds: ReadonlySet<string>;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
  /** Position of the stream's last event: what a replayed command reports as Ledger-Position. */
  readonly lastPosition: Position | undefined;
}

export function toDomainEvent(e: RecordedEvent): PaymentEvent {
  return upcastPaymentEvent(e.type, e.data, e.metadata.schemaVersion);
}

export async function loadPayment(store: EventStore, streamId: string): Promise<LoadedPayment> {
  const { revision, events } = await store.readStream(streamId);
  let state: PaymentState = initialState;
  for (const e of events) state = evolve(state, toDomainEvent(e));
  return {
    state,
    revision,
    eventIds: new Set(events.map((e) => e.id)),
    createdAt: events[0]?.metadata.occurredAt,
    updatedAt: events.at(-1)?.metadata.occurredAt,
    lastPosition: events.at(-1)?.position,
  };
}

export const assertExists = (state: PaymentState): ExistingPayment => {
  if (!state.exists) throw new Error('payment expected to exist');
  return state;
};
