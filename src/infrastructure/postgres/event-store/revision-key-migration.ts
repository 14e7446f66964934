import type { Migration } from '../migrator.js';
import { IDEMPOTENCY_VIOLATION_SQLSTATE } from './schema-constants.js';

/**
 * Migration 003: the unique key (stream_id, stream_revision) becomes the stream's lock and
 * revision, instead of a `streams` row updated on every append. See docs/architecture.md,
 * "Event store".
 *
 * - An append inserts expected + 1 …, having probed that key's index for the head when the
 *   expectation is an exact revision (so that no revision is skipped); two writers at the
 *   same revision meet at the index: the second waits for the first and fails with a unique
 *   violation if it committed. So exactly one wins, revisions stay gap-free, and the common
 *   path writes no row but the events.
 * - `any` and `stream_exists` appends, and every retry, go through `ledger_append`, which
 *   first takes a transaction-scoped advisory lock on the stream: such writers queue instead
 *   of failing, and each reads the head after the previous one committed.
 * - The other indexes stay: the primary key on global_position (positions' prepare part,
 *   and what tools and benchmarks page by) and (transaction_id, global_position), the
 *   reading order. Folding them into one would save a right-edge index insert per event
 *   (a few percent) but rebuild an index on a live log under an exclusive lock; this
 *   migration rewrites nothing and runs in constant time.
 * - The table's CHECK constraints move into the two write paths (this function and the
 *   adapter's fast statement), as NULLs that the NOT NULL columns refuse: an empty stream id
 *   or type, or metadata that is not an object, still fails the write, but PostgreSQL no
 *   longer prepares four check expressions at the start of every INSERT (about a fifth of
 *   a single-event append's server time). The adapter refuses all of it before any round
 *   trip anyway; revisions are head + 1 … and cannot be negative.
 * - Events are passed as one jsonb array ({ id, type, data, metadata } each), which the
 *   adapter builds by concatenating JSON it serialised anyway; no jsonb[] literal to escape
 *   and parse.
 *
 * Existing events are kept as they are; only the streams table (now redundant: its revision
 * is max(stream_revision)) and the old functions go.
 */

/*
 * The write paths' checks (formerly the table's): NULL for what the log refuses, which the
 * NOT NULL column then rejects (23502), failing the whole statement.
 */
export const VALID_STREAM_ID = (streamId: string): string => `nullif(${streamId}, '')`;
/** `event` is a jsonb { id, type, data, metadata }. */
export const VALID_TYPE = (event: string): string => `nullif(${event}->>'type', '')`;
export const VALID_METADATA = (event: string): string => `CASE WHEN jsonb_typeof(${event}->'metadata') = 'object' THEN ${event}->'metadata' END`;

/** Class of the advisory locks on streams, (class, hashtext(stream_id)); projection leases use other classes. */
export const STREAM_LOCK_CLASS = 1_347_570_101;

const keys = `
DROP FUNCTION ledger_append(text, text, bigint, uuid[], text[], jsonb[], jsonb[], boolean);
DROP FUNCTION ledger_find_replay(text, uuid[], text[]);
DROP TABLE streams;

ALTER TABLE events
  DROP CONSTRAINT events_stream_id_not_empty,
  DROP CONSTRAINT events_event_type_not_empty,
  DROP CONSTRAINT events_stream_revision_non_negative,
  DROP CONSTRAINT events_metadata_is_object;
`;

/*
 * How both functions end their parameter list and begin their body: they answer with where
 * a write landed (the output columns win any name clash inside), and count the events given.
 */
const WRITE_RESULT_AND_BODY_START = `  OUT revision bigint,
  OUT transaction_id xid8,
  OUT global_position bigint
)
LANGUAGE plpgsql
AS $fn$
#variable_conflict use_column
DECLARE
  v_count bigint := jsonb_array_length(p_events);`;

/*
 * Looks for an earlier write of these events' ids. Returns is_replay = false when none of
 * them exists; the original result when all of them exist as one contiguous run in this
 * stream with the same types; raises LE001 otherwise. Each statement takes a fresh snapshot
 * (READ COMMITTED, volatile function), so it sees a racing writer that just committed.
 */
const replayFunction = `
CREATE FUNCTION ledger_find_replay(
  p_stream_id text,
  p_events jsonb,
  OUT is_replay boolean,
${WRITE_RESULT_AND_BODY_START}
  v_present bigint;
  v_matching bigint;
  v_offsets bigint;
BEGIN
  SELECT count(e.event_id),
         count(*) FILTER (WHERE e.stream_id = p_stream_id AND e.event_type = u.type),
         count(DISTINCT e.stream_revision - u.ord)
    INTO v_present, v_matching, v_offsets
    FROM (SELECT (x->>'id')::uuid AS id, x->>'type' AS type, ord
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(x, ord)) u
    LEFT JOIN events e ON e.event_id = u.id;

  IF v_present = 0 THEN
    is_replay := false;
    RETURN;
  END IF;
  IF v_present <> v_count OR v_matching <> v_count OR v_offsets <> 1 THEN
    RAISE EXCEPTION USING
      ERRCODE = '${IDEMPOTENCY_VIOLATION_SQLSTATE}',
      MESSAGE = format('stream %s: %s of %s event ids were already written, not as this same write (other stream, other types or other order)',
                       p_stream_id, v_present, v_count);
  END IF;

  is_replay := true;
  SELECT e.stream_revision, e.transaction_id, e.global_position
    INTO revision, transaction_id, global_position
    FROM events e
   WHERE e.event_id = (p_events->(v_count::int - 1)->>'id')::uuid;
END
$fn$;
`;

/*
 * The append under the stream's advisory lock: for 'any' and 'stream_exists' (writers queue
 * on the lock and never conflict with one another), and for every retry of the adapter's
 * lock-free fast path. One call, one implicit transaction, no exception block (a
 * BEGIN ... EXCEPTION block costs a subtransaction per call). The lock is only a queue: the
 * unique key on (stream_id, stream_revision) stays the guard, so a lock-free writer racing
 * this one makes one of the two fail with a unique violation, which the adapter retries.
 *
 * p_expected_kind: 'any' | 'no_stream' | 'stream_exists' | 'exact' (then p_expected_revision).
 * p_check_replay: look for an earlier write of the ids before writing (after the unique
 *   index on event_id fired); a failed expectation always looks.
 *
 * status: 'ok' (written), 'replayed' (these ids were this same earlier write; its result is
 * returned) or 'wrong_expected_version' (revision = actual, NULL when no stream). A replay
 * is recognised whatever the expected revision: a retried command that re-read its stream
 * (now holding its own events) expects a later revision, and is still the same write.
 *
 * There is deliberately no pg_notify here: see the adapter's notification design.
 */
const appendFunction = `
CREATE FUNCTION ledger_append(
  p_stream_id text,
  p_expected_kind text,
  p_expected_revision bigint,
  p_events jsonb,
  p_check_replay boolean,
  OUT status text,
${WRITE_RESULT_AND_BODY_START}
  v_head bigint;
  v_ok boolean;
  v_replay record;
  v_is_replay boolean := false;
BEGIN
  IF v_count = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'ledger_append: no events';
  END IF;

  PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, hashtext(p_stream_id));

  IF p_check_replay THEN
    SELECT * INTO v_replay FROM ledger_find_replay(p_stream_id, p_events);
    v_is_replay := v_replay.is_replay;
  END IF;

  IF NOT v_is_replay THEN
    -- A fresh snapshot, taken after the lock: whoever held it has committed.
    SELECT max(e.stream_revision) INTO v_head FROM events e WHERE e.stream_id = p_stream_id;
    v_ok := CASE p_expected_kind
              WHEN 'exact' THEN v_head = p_expected_revision
              WHEN 'no_stream' THEN v_head IS NULL
              WHEN 'stream_exists' THEN v_head IS NOT NULL
              WHEN 'any' THEN true
            END;
    IF v_ok IS NULL THEN
      IF p_expected_kind NOT IN ('exact', 'no_stream', 'stream_exists', 'any') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('ledger_append: unknown expected kind %L', p_expected_kind);
      END IF;
      v_ok := false;
    END IF;

    IF NOT v_ok THEN
      -- A retry of an earlier write usually lands here (its expectation held the first
      -- time), so check for one before reporting; again if already checked, since a
      -- lock-free copy of the write may have committed since.
      SELECT * INTO v_replay FROM ledger_find_replay(p_stream_id, p_events);
      v_is_replay := v_replay.is_replay;
      IF NOT v_is_replay THEN
        status := 'wrong_expected_version';
        revision := v_head;
        RETURN;
      END IF;
    END IF;
  END IF;

  IF v_is_replay THEN
    status := 'replayed';
    revision := v_replay.revision;
    transaction_id := v_replay.transaction_id;
    global_position := v_replay.global_position;
    RETURN;
  END IF;

  status := 'ok';
  transaction_id := pg_current_xact_id();
  revision := coalesce(v_head, -1) + v_count;
  -- Identity values follow row order, so ORDER BY makes positions follow revisions.
  WITH inserted AS (
    INSERT INTO events (transaction_id, stream_id, stream_revision, event_id, event_type, data, metadata)
    SELECT ledger_append.transaction_id, ${VALID_STREAM_ID('p_stream_id')}, coalesce(v_head, -1) + u.ord,
           (u.x->>'id')::uuid, ${VALID_TYPE('u.x')}, u.x->'data', ${VALID_METADATA('u.x')}
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS u(x, ord)
     ORDER BY u.ord
    RETURNING events.global_position
  )
  SELECT max(i.global_position) INTO global_position FROM inserted i;
END
$fn$;
`;

export const revisionKeyMigration: Migration = { id: 'event-store/003-revision-key-is-the-lock', sql: keys + replayFunction + appendFunction };
