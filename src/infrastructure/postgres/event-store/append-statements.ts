import type pg from 'pg';
import { IdempotencyViolation, type OutcomeRecord } from '../../../application/ports/event-store.js';
import { appendRecordingOutcomeSql, outcomeRecordParams, recordOutcomeCte } from '../idempotency/outcome-record-sql.js';
import { eventsJson, requiredHead, type AppendRequest } from './append-request.js';
import { VALID_METADATA, VALID_STREAM_ID, VALID_TYPE } from './revision-key-migration.js';
import { EVENT_ID_CONSTRAINT, IDEMPOTENCY_VIOLATION_SQLSTATE, STREAM_REVISION_CONSTRAINT } from './schema-constants.js';

/*
 * How an append reaches the database (docs/architecture.md, "Event store"):
 *
 * - Fast path, for an exact expected revision or no_stream (every command handler's case):
 *   one plain INSERT … SELECT … WHERE <the stream's head is the expected one>, no function,
 *   no lock, nothing written but the events, at revisions expected + 1 …. The unique
 *   (stream_id, stream_revision) index makes two writers at one revision exclusive: the
 *   second waits for the first and fails with a unique violation if it committed. No row
 *   means the expectation failed.
 * - ledger_append (migration 003), under the stream's advisory lock: 'any' and
 *   'stream_exists', and every second attempt, which tells a replay from a conflict and
 *   reports the actual revision.
 */

// Each statement refuses what the table's checks used to (revision-key-migration.ts): an
// empty stream id or type, metadata that is not an object, as a NULL in a NOT NULL column.
// $2 is the head required, -1 for no stream. For no_stream nothing is probed: revision 0 of
// an existing stream is taken, and the key refuses it. An exact revision must also exist
// (else the write would leave a gap): when the caller does not know that it does (the flag,
// see known-revisions.ts), the head is probed, a backward scan of the key run at most once
// (an InitPlan, evaluated only when the OR gets to it).
const headIs = (knownParam: string): string =>
  `($2::bigint = -1 OR ${knownParam}::boolean OR (SELECT max(h.stream_revision) FROM events h WHERE h.stream_id = $1) = $2::bigint)`;

const FAST_ONE_INSERT = `INSERT INTO events (stream_id, stream_revision, event_id, event_type, data, metadata)
  SELECT nullif($1, ''), $2::bigint + 1, $3::uuid, nullif($4, ''),
         $5::jsonb, CASE WHEN jsonb_typeof($6::jsonb) = 'object' THEN $6::jsonb END
   WHERE ${headIs('$7')}
  RETURNING stream_revision::text AS revision, transaction_id::text AS transaction_id, global_position::text AS global_position`;
const FAST_ONE_SQL = FAST_ONE_INSERT;
const FAST_ONE_PARAMS = 7;

// Identity values follow row order, so ORDER BY makes positions follow revisions.
const FAST_BATCH_INSERTED = `inserted AS (
  INSERT INTO events (stream_id, stream_revision, event_id, event_type, data, metadata)
  SELECT ${VALID_STREAM_ID('$1')}, $2::bigint + u.ord, (u.x->>'id')::uuid, ${VALID_TYPE('u.x')}, u.x->'data', ${VALID_METADATA('u.x')}
    FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS u(x, ord)
   WHERE ${headIs('$4')}
   ORDER BY u.ord
  RETURNING stream_revision, transaction_id, global_position)`;
const FAST_BATCH_RESULT = `SELECT max(i.stream_revision)::text AS revision, max(i.transaction_id)::text AS transaction_id,
       max(i.global_position)::text AS global_position
  FROM inserted i HAVING count(*) > 0`;
const FAST_BATCH_SQL = `WITH ${FAST_BATCH_INSERTED}
${FAST_BATCH_RESULT}`;
const FAST_BATCH_PARAMS = 4;

const LOCKED_SQL = `SELECT r.status, r.revision::text AS revision, r.transaction_id::text AS transaction_id,
  r.global_position::text AS global_position
  FROM ledger_append($1, $2, $3, $4::jsonb, $5) r`;
const LOCKED_PARAMS = 5;

/*
 * The same three statements carrying a keyed command's answer (EventStore `recordOutcome`,
 * src/infrastructure/postgres/idempotency/outcome-record-sql.ts), written only if the
 * events are: the fast paths' rows exist only when they wrote; the locked path's say 'ok'.
 */
const RECORDED = 'EXISTS (SELECT 1 FROM recorded) AS outcome_recorded';
const FAST_ONE_RECORDING_SQL = `WITH appended AS (${FAST_ONE_INSERT}),
  ${recordOutcomeCte('appended', 'true', FAST_ONE_PARAMS + 1)}
  SELECT a.*, ${RECORDED} FROM appended a`;
const FAST_BATCH_RECORDING_SQL = `WITH ${FAST_BATCH_INSERTED},
  appended AS (${FAST_BATCH_RESULT}),
  ${recordOutcomeCte('appended', 'true', FAST_BATCH_PARAMS + 1)}
  SELECT a.*, ${RECORDED} FROM appended a`;
const LOCKED_RECORDING_SQL = appendRecordingOutcomeSql(LOCKED_SQL, LOCKED_PARAMS);

export interface AppendRow {
  readonly status: 'ok' | 'replayed' | 'wrong_expected_version';
  readonly revision: string | null;
  readonly transaction_id: string | null;
  readonly global_position: string | null;
  /** Only when an outcome record was asked for. */
  readonly outcome_recorded?: boolean;
}

type WrittenRow = Omit<AppendRow, 'status'>;

/** Collisions with concurrent writers a single append survives before giving up. */
const MAX_APPEND_ATTEMPTS = 4;

/**
 * Runs one append to its end: the fast path when the expectation allows it, then, after a
 * failed expectation or a collision, the locked function with the replay check on.
 */
export async function runAppend(pool: pg.Pool, request: AppendRequest, expectedExists: boolean, record?: OutcomeRecord): Promise<AppendRow> {
  const head = requiredHead(request);
  let json: string | undefined;
  let locked = head === undefined;
  let checkReplay = false;
  let collision: unknown;
  for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
    try {
      if (!locked && head !== undefined) {
        const row = await fastAppend(pool, request, head, expectedExists, () => (json ??= eventsJson(request)), record);
        if (row !== undefined) return { status: 'ok', ...row };
      } else {
        const { rows } = await pool.query<AppendRow>(lockedAppendQuery(request, checkReplay, (json ??= eventsJson(request)), record));
        return single(rows, 'ledger_append');
      }
    } catch (error) {
      if (!isUniqueViolation(error, EVENT_ID_CONSTRAINT) && !isUniqueViolation(error, STREAM_REVISION_CONSTRAINT)) throw translateAppendError(error);
      // A repeat of an earlier write (the event-id index), or a writer that took the same
      // revision first: asking again under the lock with the replay check on returns the
      // original result, the actual revision, or a precise violation.
      collision = error;
    }
    // The fast path's expectation failed, or something collided: settle it under the lock.
    locked = true;
    checkReplay = true;
  }
  throw new IdempotencyViolation(`this append kept colliding with concurrent writes (${MAX_APPEND_ATTEMPTS} attempts)`, { cause: collision });
}

async function fastAppend(
  pool: pg.Pool,
  request: AppendRequest,
  head: string,
  expectedExists: boolean,
  json: () => string,
  record: OutcomeRecord | undefined,
): Promise<WrittenRow | undefined> {
  const { rows } = await pool.query<WrittenRow>(fastAppendQuery(request, head, expectedExists, json, record));
  return rows[0];
}

/**
 * The fast path's statement for `request` at the required `head`; `expectedExists`: that
 * revision is known to exist, so the head need not be probed (exported for tests that hold
 * its transaction open).
 */
export function fastAppendQuery(
  request: AppendRequest,
  head: string,
  expectedExists = false,
  json = (): string => eventsJson(request),
  record?: OutcomeRecord,
): pg.QueryConfig {
  const extra = record === undefined ? [] : outcomeRecordParams(record);
  if (request.ids.length === 1) {
    return {
      name: record === undefined ? 'ledger_append_one' : 'ledger_append_one_recording',
      text: record === undefined ? FAST_ONE_SQL : FAST_ONE_RECORDING_SQL,
      values: [request.streamId, head, request.ids[0], request.types[0], request.data[0], request.metadata[0], expectedExists, ...extra],
    };
  }
  return {
    name: record === undefined ? 'ledger_append_batch' : 'ledger_append_batch_recording',
    text: record === undefined ? FAST_BATCH_SQL : FAST_BATCH_RECORDING_SQL,
    values: [request.streamId, head, json(), expectedExists, ...extra],
  };
}

/** The locked path's statement (exported for tests that hold its transaction open). */
export function lockedAppendQuery(request: AppendRequest, checkReplay: boolean, json = eventsJson(request), record?: OutcomeRecord): pg.QueryConfig {
  const values = [request.streamId, request.kind, request.revision, json, checkReplay];
  return record === undefined
    ? { name: 'ledger_append', text: LOCKED_SQL, values }
    : { name: 'ledger_append_recording', text: LOCKED_RECORDING_SQL, values: [...values, ...outcomeRecordParams(record)] };
}

function single<R>(rows: readonly R[], what: string): R {
  const row = rows[0];
  if (row === undefined || rows.length !== 1) throw new Error(`${what} returned ${rows.length} rows`);
  return row;
}

interface PgErrorFields {
  readonly code?: string;
  readonly constraint?: string;
  readonly message?: string;
}

function pgError(error: unknown): PgErrorFields {
  return typeof error === 'object' && error !== null ? error : {};
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = pgError(error);
  return e.code === '23505' && e.constraint === constraint;
}

function translateAppendError(error: unknown): unknown {
  const e = pgError(error);
  if (e.code === IDEMPOTENCY_VIOLATION_SQLSTATE) return new IdempotencyViolation(e.message ?? 'idempotency violation', { cause: error });
  return error;
}
