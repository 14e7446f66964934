import type { Migration } from '../migrator.js';
import { EVENT_ID_CONSTRAINT, IDEMPOTENCY_VIOLATION_SQLSTATE } from './schema-constants.js';
import { revisionKeyMigration } from './revision-key-migration.js';

export { EVENT_ID_CONSTRAINT, IDEMPOTENCY_VIOLATION_SQLSTATE };

/*
 * Migrations 001 and 002 are as they were first applied (forward-only); 003 replaced the
 * streams table and both functions (revision-key-migration.ts).
 */

const tables = `
-- One row per stream: its lock, its revision. Updated on every append, so leave room on
-- each page for HOT updates (no index touches revision).
CREATE TABLE streams (
  stream_id text PRIMARY KEY CONSTRAINT streams_stream_id_not_empty CHECK (stream_id <> ''),
  revision bigint NOT NULL CONSTRAINT streams_revision_non_negative CHECK (revision >= 0)
) WITH (fillfactor = 70);

-- No foreign key to streams: ledger_append is the only writer and already holds the stream
-- row, and the key check would cost a lookup and a row lock per event.
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Sequence numbers are taken before commit, so global_position alone is not a safe
  -- reading order; (transaction_id, global_position) below the snapshot's xmin is.
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL CONSTRAINT events_stream_id_not_empty CHECK (stream_id <> ''),
  stream_revision bigint NOT NULL CONSTRAINT events_stream_revision_non_negative CHECK (stream_revision >= 0),
  event_id uuid NOT NULL CONSTRAINT ${EVENT_ID_CONSTRAINT} UNIQUE,
  event_type text NOT NULL CONSTRAINT events_event_type_not_empty CHECK (event_type <> ''),
  data jsonb NOT NULL,
  metadata jsonb NOT NULL CONSTRAINT events_metadata_is_object CHECK (jsonb_typeof(metadata) = 'object'),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_stream_revision_key UNIQUE (stream_id, stream_revision)
);

-- The reading order of readAll / subscriptions / headPosition.
CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);
`;

/*
 * How both functions end their parameter list and begin their body: they answer with where
 * a write landed (the output columns win any name clash inside), and count the ids given.
 */
const WRITE_RESULT_AND_BODY_START = `  OUT revision bigint,
  OUT transaction_id xid8,
  OUT global_position bigint
)
LANGUAGE plpgsql
AS $fn$
#variable_conflict use_column
DECLARE
  v_count bigint := cardinality(p_event_ids);`;

/*
 * Looks for an earlier write of these event ids. Returns is_replay = false when none of them
 * exists; the original result when all of them exist as one contiguous run in this stream
 * with the same types; raises LE001 otherwise. Each statement takes a fresh snapshot
 * (READ COMMITTED, volatile function), so it sees a racing writer that just committed.
 */
const replayFunction = `
CREATE FUNCTION ledger_find_replay(
  p_stream_id text,
  p_event_ids uuid[],
  p_event_types text[],
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
    FROM unnest(p_event_ids, p_event_types) WITH ORDINALITY AS u(id, type, ord)
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
   WHERE e.event_id = p_event_ids[v_count];
END
$fn$;
`;

/*
 * The whole append in one call, one implicit transaction, no exception block (a
 * BEGIN ... EXCEPTION block costs a subtransaction per call).
 *
 * p_expected_kind: 'any' | 'no_stream' | 'stream_exists' | 'exact' (then p_expected_revision).
 * p_check_replay: look for an earlier write of the ids before writing. The adapter sets it
 *   only after the unique index on event_id fired, so the common path pays nothing for it;
 *   a failed expectation always looks (a retried write usually fails its expectation).
 *
 * status: 'ok' (written), 'replayed' (these ids were this same earlier write; its result is
 * returned) or 'wrong_expected_version' (revision = actual, NULL when no stream). A replay
 * is recognised whatever the expected revision: a retried command that re-read its stream
 * (now holding its own events) expects a later revision, and is still the same write.
 *
 * There is deliberately no pg_notify here: NOTIFY takes a database-wide lock at commit and
 * would serialise all appends. The adapter notifies out of band.
 */
const appendFunction = `
CREATE FUNCTION ledger_append(
  p_stream_id text,
  p_expected_kind text,
  p_expected_revision bigint,
  p_event_ids uuid[],
  p_event_types text[],
  p_data jsonb[],
  p_metadata jsonb[],
  p_check_replay boolean,
  OUT status text,
${WRITE_RESULT_AND_BODY_START}
  v_replay record;
BEGIN
  IF v_count = 0 OR cardinality(p_event_types) <> v_count OR cardinality(p_data) <> v_count
     OR cardinality(p_metadata) <> v_count THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'ledger_append: event arrays must be non-empty and of equal length';
  END IF;

  IF p_check_replay THEN
    SELECT * INTO v_replay FROM ledger_find_replay(p_stream_id, p_event_ids, p_event_types);
    IF v_replay.is_replay THEN
      status := 'replayed';
      revision := v_replay.revision;
      transaction_id := v_replay.transaction_id;
      global_position := v_replay.global_position;
      RETURN;
    END IF;
  END IF;

  -- Each branch locks the stream row and moves its revision in one statement, or finds
  -- that the expectation does not hold (revision stays NULL).
  IF p_expected_kind = 'exact' THEN
    -- A concurrent writer holding the row makes us wait; the WHERE is then re-checked
    -- against its committed version, so exactly one of two racing writers matches.
    UPDATE streams s SET revision = p_expected_revision + v_count
     WHERE s.stream_id = p_stream_id AND s.revision = p_expected_revision
    RETURNING s.revision INTO revision;
  ELSIF p_expected_kind = 'no_stream' THEN
    -- Two racing creators: the second waits for the first to commit, then inserts nothing.
    INSERT INTO streams AS s (stream_id, revision) VALUES (p_stream_id, v_count - 1)
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING s.revision INTO revision;
  ELSIF p_expected_kind = 'any' THEN
    INSERT INTO streams AS s (stream_id, revision) VALUES (p_stream_id, v_count - 1)
    ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision + v_count
    RETURNING s.revision INTO revision;
  ELSIF p_expected_kind = 'stream_exists' THEN
    UPDATE streams s SET revision = s.revision + v_count
     WHERE s.stream_id = p_stream_id
    RETURNING s.revision INTO revision;
  ELSE
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('ledger_append: unknown expected kind %L', p_expected_kind);
  END IF;

  IF revision IS NULL THEN
    -- Nothing was written or locked. A retry of an earlier write usually lands here
    -- (its expectation held the first time), so check for one before reporting.
    SELECT * INTO v_replay FROM ledger_find_replay(p_stream_id, p_event_ids, p_event_types);
    IF v_replay.is_replay THEN
      status := 'replayed';
      revision := v_replay.revision;
      transaction_id := v_replay.transaction_id;
      global_position := v_replay.global_position;
      RETURN;
    END IF;
    status := 'wrong_expected_version';
    SELECT s.revision INTO revision FROM streams s WHERE s.stream_id = p_stream_id;
    RETURN;
  END IF;

  status := 'ok';
  transaction_id := pg_current_xact_id();
  IF v_count = 1 THEN
    -- The common case, without unnest and aggregate overhead.
    INSERT INTO events (transaction_id, stream_id, stream_revision, event_id, event_type, data, metadata)
    VALUES (transaction_id, p_stream_id, revision, p_event_ids[1], p_event_types[1], p_data[1], p_metadata[1])
    RETURNING events.global_position INTO global_position;
  ELSE
    -- Identity values follow row order, so ORDER BY makes positions follow revisions.
    WITH inserted AS (
      INSERT INTO events (transaction_id, stream_id, stream_revision, event_id, event_type, data, metadata)
      SELECT ledger_append.transaction_id, p_stream_id, ledger_append.revision - v_count + u.ord,
             u.id, u.type, u.data, u.metadata
        FROM unnest(p_event_ids, p_event_types, p_data, p_metadata) WITH ORDINALITY AS u(id, type, data, metadata, ord)
       ORDER BY u.ord
      RETURNING events.global_position
    )
    SELECT max(i.global_position) INTO global_position FROM inserted i;
  END IF;
END
$fn$;
`;

export const eventStoreMigrations: Migration[] = [
  { id: 'event-store/001-tables', sql: tables },
  { id: 'event-store/002-append-function', sql: replayFunction + appendFunction },
  revisionKeyMigration,
];
