import type { ExistingPayment, PaymentEvent, PaymentState } from '../../domain/payment/index.js';
import { evolve, initialState, upcastPaymentEvent } from '../../domain/payment/index.js';
import type { EventStore, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import type { PaymentView } from './payment-view.js';
import { toPaymentView } from './payment-view.js';

/** A payment as loaded from its stream: the folded state plus what the API shows around it. */
export interface LoadedPayment {
  readonly state: PaymentState;
  readonly revision: StreamRevision | undefined;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
  /** Position of the last event folded: what a replayed command reports as Ledger-Position. */
  readonly lastPosition: Position | undefined;
  /** The events as recorded, to find what an earlier call with the same idempotency key wrote. */
  readonly recorded: readonly RecordedEvent[];
}

export function toDomainEvent(e: RecordedEvent): PaymentEvent {
  return upcastPaymentEvent(e.type, e.data, e.metadata.schemaVersion);
}

function foldRecorded(recorded: readonly RecordedEvent[], revision: StreamRevision | undefined): LoadedPayment {
  let state: PaymentState = initialState;
  for (const e of recorded) state = evolve(state, toDomainEvent(e));
  const last = recorded.at(-1);
  return {
    state,
    revision,
    createdAt: recorded[0]?.metadata.occurredAt,
    updatedAt: last?.metadata.occurredAt,
    lastPosition: last?.position,
    recorded,
  };
}

export async function loadPayment(store: EventStore, streamId: string): Promise<LoadedPayment> {
  const { revision, events } = await store.readStream(streamId);
  return foldRecorded(events, revision);
}

/** A payment as one write left it: its view, and the revision and position of that write's last event. */
export interface WrittenPayment {
  readonly payment: PaymentView;
  readonly revision: StreamRevision;
  readonly position: Position;
}

/**
 * The payment as one earlier write left it, whatever came after: the stream folded up to
 * and including the last event of the write whose event ids are `idOf(0)`, `idOf(1)`, …
 * (one append, so they sit together). Undefined when that write is not in the stream.
 * This is what a retried command answers, so it gets the answer the first call got.
 */
export function asWrittenBy(loaded: LoadedPayment, idOf: (index: number) => string): WrittenPayment | undefined {
  const first = loaded.recorded.findIndex((e) => e.id === idOf(0));
  if (first < 0) return undefined;
  let end = first + 1;
  while (end < loaded.recorded.length && loaded.recorded[end]?.id === idOf(end - first)) end++;
  const written = loaded.recorded.slice(0, end);
  const [created, last] = [written[0], written[written.length - 1]];
  if (!created || !last) throw new Error('a write has at least one event');
  const state = foldRecorded(written, last.revision).state;
  return {
    payment: toPaymentView(assertExists(state), last.revision, created.metadata.occurredAt, last.metadata.occurredAt),
    revision: last.revision,
    position: last.position,
  };
}

export const assertExists = (state: PaymentState): ExistingPayment => {
  if (!state.exists) throw new Error('payment expected to exist');
  return state;
};
