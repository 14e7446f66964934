import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { EventMetadata, EventStore, NewEvent, RecordedEvent, StreamRevision } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';

/*
 * Load → fold → decide → append with the expected revision, for aggregates whose deciders
 * take their time from the command (subscriptions, invoices). A conflict with a concurrent
 * writer is decided again on the fresh state, a bounded number of times; because those
 * deciders are idempotent by state, the loser of a race between two schedulers decides no
 * events the second time and writes nothing (docs/architecture.md, "Subscriptions").
 */

export interface AggregateType<S, E extends { readonly type: string; readonly data: unknown }, C, Err> {
  readonly initial: S;
  readonly evolve: (state: S, event: E) => S;
  readonly decide: (state: S, command: C) => Result<E[], Err>;
  readonly upcast: (type: string, data: unknown, schemaVersion: number) => E;
  readonly schemaVersion: number;
}

export interface LoadedAggregate<S> {
  readonly state: S;
  readonly revision: StreamRevision | undefined;
  readonly lastPosition: Position | undefined;
  readonly recorded: readonly RecordedEvent[];
}

export async function loadAggregate<S, E extends { readonly type: string; readonly data: unknown }, C, Err>(
  store: EventStore,
  type: AggregateType<S, E, C, Err>,
  streamId: string,
): Promise<LoadedAggregate<S>> {
  const { revision, events } = await store.readStream(streamId);
  let state = type.initial;
  for (const e of events) state = type.evolve(state, type.upcast(e.type, e.data, e.metadata.schemaVersion));
  return { state, revision, lastPosition: events.at(-1)?.position, recorded: events };
}

/** Who writes, for the events' metadata; `eventIdSeed` derives the event ids (retries then write the same ids). */
export interface Writer {
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly occurredAt: string;
  readonly eventIdSeed?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

export type DecideResult<S, E, Err> = Result<
  {
    readonly state: S;
    readonly events: readonly E[];
    readonly revision: StreamRevision | undefined;
    readonly position: Position | undefined;
    /** The store recognised the append as one already made (the same event ids): nothing new was written. */
    readonly replayed: boolean;
  },
  Err | { readonly code: 'concurrency_conflict'; readonly attempts: number } | RevisionMismatch
>;

/** If-Match named another revision than the stream's (`actual` null: no stream). */
export interface RevisionMismatch {
  readonly code: 'revision_mismatch';
  readonly expected: string;
  readonly actual: string | null;
}

export interface DecideOptions {
  readonly maxAttempts: number;
  /** A name-based UUID from a seed; a random one without a seed. */
  readonly eventId: (seed: string | undefined, index: number) => string;
  /**
   * If-Match: decide only on the stream at exactly this revision, and append only there. A
   * conflict is then not retried: the reload finds another revision and answers revision_mismatch.
   */
  readonly expectedRevision?: StreamRevision | undefined;
}

/**
 * Decides `command(state)` on the stream as it is and appends what it decided. No events
 * decided is success without a write (the state as it stands).
 */
export async function decideAndAppend<S, E extends { readonly type: string; readonly data: unknown }, C, Err>(
  store: EventStore,
  type: AggregateType<S, E, C, Err>,
  streamId: string,
  command: (state: S) => C,
  writer: Writer,
  options: DecideOptions,
): Promise<DecideResult<S, E, Err>> {
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const loaded = await loadAggregate(store, type, streamId);
    if (options.expectedRevision !== undefined && loaded.revision !== options.expectedRevision) {
      return err({ code: 'revision_mismatch', expected: options.expectedRevision.toString(), actual: loaded.revision === undefined ? null : loaded.revision.toString() });
    }
    const decided = type.decide(loaded.state, command(loaded.state));
    if (!decided.ok) return decided;
    if (decided.value.length === 0) return ok({ state: loaded.state, events: [], revision: loaded.revision, position: loaded.lastPosition, replayed: false });
    const metadata: EventMetadata = {
      correlationId: writer.correlationId,
      causationId: writer.causationId,
      actor: writer.actor,
      occurredAt: writer.occurredAt,
      schemaVersion: type.schemaVersion,
      ...(writer.idempotencyKey !== undefined ? { idempotencyKey: writer.idempotencyKey } : {}),
    };
    const events: NewEvent[] = decided.value.map((e, i) => ({ id: options.eventId(writer.eventIdSeed, i), type: e.type, data: e.data, metadata }));
    try {
      const appended = await store.append(streamId, events, loaded.revision ?? 'no_stream');
      if (appended.replayed) {
        // An earlier run with the same seed wrote these events (and maybe more since): the stream as it is now.
        const now = await loadAggregate(store, type, streamId);
        return ok({ state: now.state, events: [], revision: now.revision, position: now.lastPosition, replayed: true });
      }
      const state = decided.value.reduce(type.evolve, loaded.state);
      return ok({ state, events: decided.value, revision: appended.nextExpectedRevision, position: appended.position, replayed: false });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
    }
  }
  return err({ code: 'concurrency_conflict', attempts: options.maxAttempts });
}
