import type { ExpectedRevision, NewEvent } from '../../../application/ports/event-store.js';

export const INT8_MAX = (1n << 63n) - 1n;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ExpectedKind = 'exact' | 'no_stream' | 'stream_exists' | 'any';

/** One append, validated and serialised before anything touches the database. */
export interface AppendRequest {
  readonly streamId: string;
  readonly kind: ExpectedKind;
  /** The exact expected revision as decimal text; null for the other kinds. */
  readonly revision: string | null;
  readonly ids: readonly string[];
  readonly types: readonly string[];
  /** JSON text of each event's data and metadata. */
  readonly data: readonly string[];
  readonly metadata: readonly string[];
}

/** Refuses, before any round trip, what the log cannot hold (exported for the in-memory test double). */
export function appendParams(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendRequest {
  checkStreamId(streamId);
  if (events.length === 0) throw new RangeError('append needs at least one event');
  const [kind, revision] = expectedParams(expected);
  const ids: string[] = [];
  const types: string[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    if (typeof event.id !== 'string' || !UUID_PATTERN.test(event.id)) throw new TypeError(`event id is not a UUID: ${String(event.id)}`);
    const id = event.id.toLowerCase();
    if (seen.has(id)) throw new TypeError(`event id ${id} appears twice in one append`);
    seen.add(id);
    if (typeof event.type !== 'string' || event.type === '') throw new TypeError(`event ${id}: type must be a non-empty string`);
    if (typeof event.metadata !== 'object' || event.metadata === null || Array.isArray(event.metadata)) {
      throw new TypeError(`event ${id}: metadata must be an object`);
    }
    ids.push(id);
    types.push(event.type);
    // Serialised here rather than by pg, which would turn a top-level array into a
    // PostgreSQL array literal. Undefined has no JSON form; store it as null.
    data.push(JSON.stringify(event.data) ?? 'null');
    metadata.push(JSON.stringify(event.metadata));
  }
  return { streamId, kind, revision, ids, types, data, metadata };
}

/**
 * The events as the one jsonb array the SQL takes, [{ id, type, data, metadata }, …], built
 * from the JSON already serialised: nothing is escaped or parsed twice.
 */
export function eventsJson(request: AppendRequest): string {
  const parts: string[] = [];
  for (let i = 0; i < request.ids.length; i++) {
    parts.push(`{"id":"${request.ids[i]}","type":${JSON.stringify(request.types[i])},"data":${request.data[i]},"metadata":${request.metadata[i]}}`);
  }
  return `[${parts.join(',')}]`;
}

/**
 * The head revision the lock-free fast path requires (-1: no stream), or undefined when the
 * expectation is not a single head ('any', 'stream_exists').
 */
export function requiredHead(request: AppendRequest): string | undefined {
  if (request.kind === 'exact') return request.revision ?? undefined;
  return request.kind === 'no_stream' ? '-1' : undefined;
}

function expectedParams(expected: ExpectedRevision): [kind: ExpectedKind, revision: string | null] {
  if (typeof expected === 'bigint') {
    if (expected < 0n || expected > INT8_MAX) throw new RangeError(`expected revision out of range: ${expected}`);
    return ['exact', expected.toString()];
  }
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return [expected, null];
  throw new TypeError(`unknown expected revision: ${String(expected)}`);
}

export function checkStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || streamId === '') throw new TypeError('stream id must be a non-empty string');
}
