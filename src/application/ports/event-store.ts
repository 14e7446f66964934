import type { Brand } from '../../domain/brand.js';
import type { IdempotencyScope, StoredResponse } from './idempotency-store.js';
import type { Position } from './position.js';

/** 0-based revision of the last event in a stream (EventStoreDB's convention). */
export type StreamRevision = Brand<bigint, 'StreamRevision'>;
export const streamRevision = (n: bigint | number): StreamRevision => BigInt(n) as StreamRevision;

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | StreamRevision;

export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: string;
  readonly occurredAt: string;
  readonly schemaVersion: number;
  readonly [key: string]: unknown;
}

export interface NewEvent {
  /** A UUID. Appending the same ids again is recognised as the same write. */
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: StreamRevision;
  readonly position: Position;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the last event written (or already present, for an idempotent re-append). */
  readonly nextExpectedRevision: StreamRevision;
  /** Position of the last event written. */
  readonly position: Position;
  /**
   * True when every event was already in the stream under the same ids (an idempotent
   * re-append): nothing was written now, and the caller's own view of the write (its clock,
   * its state) is not what the log holds. EventStoreDB does not say, so its adapter answers
   * false (docs/architecture.md, "Event store").
   */
  readonly replayed: boolean;
  /**
   * True when the `recordOutcome` asked for was written with the events. Stores that cannot
   * write it atomically (EventStoreDB, the in-memory store) leave it out: the caller records
   * the outcome itself, as it does without the option.
   */
  readonly outcomeRecorded?: boolean;
}

/**
 * A keyed command's answer, to be written in the same transaction as its events by stores
 * that can (PostgreSQL): the append and the record of its answer then commit together, in
 * one round trip, and a crash can never leave one without the other. `response` lacks only
 * the position, which the store adds as the `positionHeader` header once it knows it. The
 * record is written only if the events are (not on a replay or a wrong expected revision)
 * and only while `lease` still holds the key, as `IdempotencyStore.complete` would.
 * docs/architecture.md, "The command path".
 */
export interface OutcomeRecord {
  readonly scope: IdempotencyScope;
  readonly lease: string;
  readonly response: StoredResponse;
  readonly positionHeader: string;
}

export interface AppendOptions {
  readonly recordOutcome?: OutcomeRecord | undefined;
}

/** Expected revision did not match. `actual` is undefined when the stream does not exist. */
export class WrongExpectedVersion extends Error {
  override readonly name = 'WrongExpectedVersion';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: StreamRevision | undefined,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual === undefined ? 'no stream' : String(actual)}`);
  }
}

/** The same event ids were re-appended with other content or to another place: a bug in the caller. */
export class IdempotencyViolation extends Error {
  override readonly name = 'IdempotencyViolation';
}

export interface ReadStreamResult {
  /** undefined when the stream does not exist. */
  readonly revision: StreamRevision | undefined;
  readonly events: readonly RecordedEvent[];
}

export interface ReadAllOptions {
  /** Exclusive. Omitted: from the start of the log. */
  readonly after?: Position | undefined;
  /** Upper bound on events returned; adapters may return fewer. */
  readonly maxCount: number;
}

export interface SubscribeOptions {
  readonly after?: Position | undefined;
  /** Largest batch handed to the consumer at once. */
  readonly batchSize: number;
  readonly signal: AbortSignal;
}

/**
 * The write side's only storage. Both adapters (PostgreSQL, EventStoreDB) honour this
 * contract exactly; test/event-store/contract.ts proves it against each.
 */
export interface EventStore {
  append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: { fromRevision?: StreamRevision; maxCount?: number }): Promise<ReadStreamResult>;
  /** Committed events after `after`, in log order. Never skips an event that a later read could return earlier. */
  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]>;
  /**
   * Catch-up then live: yields batches in log order until the signal aborts.
   * Batches are never empty. The consumer checkpoints the last position it handled.
   */
  subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]>;
  /** Position of the newest event a reader may see now, or undefined for an empty log. */
  headPosition(): Promise<Position | undefined>;
  close(): Promise<void>;
}
