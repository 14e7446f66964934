import { ANY, NO_STREAM, START as ESDB_START, STREAM_EXISTS } from '@eventstore/db-client';
import type {
  AppendExpectedRevision,
  CurrentRevision,
  JSONType,
  Position as EsdbPosition,
  ReadPosition,
} from '@eventstore/db-client';
import { streamRevision } from '../../application/ports/event-store.js';
import type {
  EventMetadata,
  ExpectedRevision,
  RecordedEvent,
  StreamRevision,
} from '../../application/ports/event-store.js';
import { comparePositions, position } from '../../application/ports/position.js';
import type { Position, PositionParts } from '../../application/ports/position.js';

// Pure translations between the port's vocabulary and the EventStoreDB client's. Kept apart
// from the adapter so they can be unit-tested without a server.

const MAX_U64 = (1n << 64n) - 1n;

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      // A StreamRevision is a bigint; the client sends it as the exact expected revision.
      return expected;
  }
}

/** The client reports a missing stream as 'no_stream'; the port as undefined. */
export function fromEsdbCurrentRevision(current: CurrentRevision): StreamRevision | undefined {
  return current === NO_STREAM ? undefined : streamRevision(current);
}

export const toPortPosition = (p: EsdbPosition): Position => position(p.commit, p.prepare);

/** START (0.0) means "from the very beginning": no event can be at or before it that we should skip. */
export const isStart = (p: PositionParts): boolean => p.commit === 0n && p.prepare === 0n;

/**
 * Where to start an EventStoreDB read or subscription for "events after `after`".
 * EventStoreDB's fromPosition is inclusive, so the caller must still drop the event at
 * exactly `after` (see isStrictlyAfter).
 */
export function toReadPosition(after: PositionParts | undefined): ReadPosition {
  if (after === undefined || isStart(after)) return ESDB_START;
  return { commit: after.commit, prepare: after.prepare };
}

/**
 * True when `p` lies strictly after `after`. Both halves count: events written in one
 * (legacy) transaction share a commit position and differ only by prepare position, so a
 * commit-only comparison would drop or repeat them.
 */
export function isStrictlyAfter(p: PositionParts, after: PositionParts | undefined): boolean {
  if (after === undefined || isStart(after)) return true;
  return comparePositions(p, after) > 0;
}

/**
 * The write position an append reported, or undefined when it reported none we can use.
 * Servers answer an idempotent re-append without a position (older versions) or with -1
 * (which arrives as 2^64-1); neither is the position of an event.
 */
export function usableWritePosition(p: EsdbPosition | undefined): Position | undefined {
  if (p === undefined) return undefined;
  if (p.commit < 0n || p.prepare < 0n || p.commit >= MAX_U64 || p.prepare >= MAX_U64) return undefined;
  return toPortPosition(p);
}

/**
 * Events the application reads: not EventStoreDB's own. System event types start with "$"
 * (including "$>" links and "$metadata"), and so do system streams ("$stats-…", "$$stream"
 * metadata streams, "$ce-…" projections).
 */
export const isUserEvent = (streamId: string, type: string): boolean =>
  !streamId.startsWith('$') && !type.startsWith('$');

/** What the adapter needs from a client RecordedEvent (both the stream and the $all kinds fit). */
export interface EsdbRecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly created: Date;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly position?: EsdbPosition | undefined;
}

export class UnsupportedEventStoreDbEvent extends Error {
  override readonly name = 'UnsupportedEventStoreDbEvent';
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/**
 * Metadata as this adapter wrote it: a JSON object. It is not re-validated field by field
 * here (the application's upcasters own event shapes), but anything that is not a JSON
 * object cannot be ours, and we fail on it visibly rather than invent a correlation id.
 */
export function toEventMetadata(raw: unknown, where: string): EventMetadata {
  if (!isPlainObject(raw)) {
    throw new UnsupportedEventStoreDbEvent(`${where}: metadata is not a JSON object`);
  }
  // Shape checked above as far as the adapter can; the fields are the writer's promise.
  return raw as EventMetadata;
}

export function toRecordedEvent(e: EsdbRecordedEvent): RecordedEvent {
  const where = `event ${e.id} (${e.streamId}@${e.revision})`;
  const p = e.position;
  if (p === undefined) {
    // Stream reads carry an event's $all position only from EventStoreDB 22.6 on.
    throw new UnsupportedEventStoreDbEvent(`${where}: the server sent no log position (EventStoreDB 22.6 or later is required)`);
  }
  return {
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: streamRevision(e.revision),
    position: toPortPosition(p),
    data: e.data,
    metadata: toEventMetadata(e.metadata, where),
    recordedAt: e.created,
  };
}

/**
 * The port's data is any JSON value; the client's type names only objects, arrays and
 * strings, but it serialises with JSON.stringify, which takes numbers, booleans and null too.
 * undefined has no JSON form (the client would crash on it), so it is stored as null.
 */
export const toJsonData = (data: unknown): JSONType => (data === undefined ? null : data) as JSONType;

/**
 * Where the last of `count` events must be after a successful append, when the expectation
 * pins it: EventStoreDB only succeeds with an exact revision E (or no_stream, E = -1) when
 * the events sit at E+1…E+count, whether it wrote them now or recognised them as written
 * before. 'any' and 'stream_exists' pin nothing.
 */
export function expectedLastRevision(expected: ExpectedRevision, count: number): bigint | undefined {
  if (expected === 'no_stream') return BigInt(count) - 1n;
  if (typeof expected === 'bigint') return expected + BigInt(count);
  return undefined;
}

/**
 * A WrongExpectedVersion that cannot be about the expectation. Under 'any' there is none to
 * miss, and 'stream_exists' fails only on a missing stream; when such an append is refused
 * while the stream exists, EventStoreDB found some but not all of the event ids already
 * written ("corrupted idempotency", which it reports as a wrong expected version).
 */
export const isPartialReappend = (expected: ExpectedRevision, actual: StreamRevision | undefined): boolean =>
  (expected === 'any' || expected === 'stream_exists') && actual !== undefined;
