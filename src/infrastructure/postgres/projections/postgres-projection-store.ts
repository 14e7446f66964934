import pg from 'pg';
import type { Position } from '../../../application/ports/position.js';
import { comparePositions } from '../../../application/ports/position.js';
import type {
  BatchOutcome,
  BatchPart,
  FinishRebuildOutcome,
  LeasePurpose,
  PositionedChange,
  ProjectionFailure,
  ProjectionLease,
  ProjectionRecord,
  ProjectionSpec,
  ProjectionStore,
  RebuildProgress,
  TransactionWork,
} from '../../../application/ports/projection-store.js';
import type { SqlExecutor } from '../../../application/ports/sql.js';
import type { Result } from '../../../domain/result.js';
import { projectionSchema } from '../../../projections/projection.js';
import { CHANGES_CHANNEL } from '../realtime/schema.js';
import { sqlExecutor } from '../sql-executor.js';
import { AdvisoryLeases } from './advisory-leases.js';
import type { RecordRow } from './record-sql.js';
import { READ_RECORDS, positionOf, recordFromRow } from './record-sql.js';
import { compareSchemas } from './schema-comparison.js';
import { PROJECTIONS_CHANNEL } from './schema.js';
import { inTransaction, setLocalSearchPath } from './transaction.js';

export interface PostgresProjectionStoreOptions {
  /** The connection that holds leases; default: a new pg.Client with the pool's settings. */
  readonly createLeaseClient?: () => pg.Client;
  /** How often that connection is proven alive while it holds leases. Default 5,000 ms. */
  readonly leaseHeartbeatMs?: number;
  /** Longest the rebuild switch waits for a lock (the live runner's batch, a reader). Default 10,000 ms. */
  readonly switchLockTimeoutMs?: number;
}

// The first statement of a batch: lock the record (a rebuild switch or another runner
// waits here) and remember the session's search_path to restore after the projection's work.
const LOCK_RECORD = `
SELECT checkpoint_commit, checkpoint_prepare, version, current_setting('search_path') AS saved_search_path
  FROM projection_checkpoints WHERE name = $1 FOR UPDATE`;

const INSERT_CHANGES = `
INSERT INTO realtime_changes (projection, topic, type, position_commit, position_prepare, data)
SELECT $1, c.value->>'topic', c.value->>'type', (c.value->>'commit')::numeric, (c.value->>'prepare')::numeric, c.value->'data'
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS c(value, ord)
 ORDER BY c.ord`;

// Several records at once, always in name order, so that two transactions locking some of
// the same records cannot deadlock.
const LOCK_RECORDS = `
SELECT name, checkpoint_commit, checkpoint_prepare, version, current_setting('search_path') AS saved_search_path
  FROM projection_checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`;

const INSERT_CHANGES_OF_MANY = `
INSERT INTO realtime_changes (projection, topic, type, position_commit, position_prepare, data)
SELECT c.value->>'projection', c.value->>'topic', c.value->>'type', (c.value->>'commit')::numeric, (c.value->>'prepare')::numeric, c.value->'data'
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(value, ord)
 ORDER BY c.ord`;

const ADVANCE_CHECKPOINTS = `
UPDATE projection_checkpoints c SET checkpoint_commit = v.commit, checkpoint_prepare = v.prepare, updated_at = now()
  FROM unnest($1::text[], $2::numeric[], $3::numeric[]) AS v(name, commit, prepare)
 WHERE c.name = v.name`;

const NOTIFY_PROGRESS_OF_MANY = `SELECT pg_notify('${PROJECTIONS_CHANNEL}', n) FROM unnest($1::text[]) AS n`;
const NOTIFY_CHANGES = `SELECT pg_notify('${CHANGES_CHANNEL}', $1)`;

const ADVANCE_CHECKPOINT = `
UPDATE projection_checkpoints SET checkpoint_commit = $2, checkpoint_prepare = $3, updated_at = now() WHERE name = $1`;

// Delivered at commit, so waiters and the realtime tailer never hear of uncommitted work.
const NOTIFY_PROGRESS = `SELECT pg_notify('${PROJECTIONS_CHANNEL}', $1)`;
const NOTIFY_PROGRESS_AND_CHANGES = `SELECT pg_notify('${PROJECTIONS_CHANNEL}', $1), pg_notify('${CHANGES_CHANNEL}', $1)`;

const INSERT_RECORD = `
INSERT INTO projection_checkpoints (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`;

const READ_CHECKPOINTS = `
SELECT name, checkpoint_commit, checkpoint_prepare FROM projection_checkpoints WHERE name = ANY($1::text[])`;

const RECORD_FAILURE = `
UPDATE projection_checkpoints
   SET error = $2, failed_position_commit = $3, failed_position_prepare = $4, failed_event_id = $5,
       failed_at = now(), updated_at = now()
 WHERE name = $1`;

const CLEAR_FAILURE = `
UPDATE projection_checkpoints
   SET error = NULL, failed_position_commit = NULL, failed_position_prepare = NULL, failed_event_id = NULL,
       failed_at = NULL, updated_at = now()
 WHERE name = $1 AND error IS NOT NULL`;

const UPSERT_REBUILD_PROGRESS = `
INSERT INTO projection_rebuilds AS r (name, processed, position_commit, position_prepare, head_commit, head_prepare, started_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (name) DO UPDATE
  SET processed = EXCLUDED.processed, position_commit = EXCLUDED.position_commit, position_prepare = EXCLUDED.position_prepare,
      head_commit = EXCLUDED.head_commit, head_prepare = EXCLUDED.head_prepare, started_at = EXCLUDED.started_at, updated_at = now()`;

const DELETE_REBUILD_PROGRESS = `DELETE FROM projection_rebuilds WHERE name = $1`;

const SCHEMA_EXISTS = `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present`;

const SWITCHED_RECORD = `
UPDATE projection_checkpoints
   SET version = $2, checkpoint_commit = $3, checkpoint_prepare = $4,
       error = NULL, failed_position_commit = NULL, failed_position_prepare = NULL, failed_event_id = NULL, failed_at = NULL,
       updated_at = now()
 WHERE name = $1`;

/** Only scratch schemas may be dropped or reset: never a live read model. */
const SCRATCH_SCHEMA = /^rm_[a-z0-9_]+__(rebuild|audit)$/;
const MAX_ERROR_LENGTH = 4_000;

/** SQLSTATE classes and codes that are the database's trouble, not the handler's. */
// 57014: statement cancelled (statement_timeout under load) — retry the batch, don't fail the projection.
const TRANSIENT_SQLSTATE = /^(08|53|57014|57P0[1-3]|40001|40P01|55P03|58)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

interface LockedRecord {
  readonly version: number;
  readonly checkpoint_commit: string;
  readonly checkpoint_prepare: string;
  readonly saved_search_path: string;
}

/**
 * ProjectionStore on PostgreSQL: records in projection_checkpoints, leases as advisory
 * locks, read models in schemas rm_<name> beside them in the same database, so that a
 * batch, its checkpoint and its realtime rows commit together.
 */
export class PostgresProjectionStore implements ProjectionStore {
  private readonly leases: AdvisoryLeases;
  private readonly switchLockTimeoutMs: number;

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresProjectionStoreOptions = {},
  ) {
    this.leases = new AdvisoryLeases({
      createClient:
        options.createLeaseClient ??
        (() =>
          new pg.Client({
            ...pool.options,
            application_name: `${pool.options.application_name ?? 'ledger'}:projection-leases`,
            keepAlive: true,
            // Client-side: a heartbeat on a half-open connection must fail, not hang.
            query_timeout: 10_000,
          })),
      heartbeatMs: options.leaseHeartbeatMs ?? 5_000,
    });
    this.switchLockTimeoutMs = options.switchLockTimeoutMs ?? 10_000;
  }

  tryAcquireLease(name: string, purpose: LeasePurpose, holder: string): Promise<ProjectionLease | undefined> {
    return this.leases.tryAcquire(name, purpose, holder);
  }

  async register(spec: ProjectionSpec): Promise<ProjectionRecord> {
    await inTransaction(this.pool, async (client) => {
      await client.query(INSERT_RECORD, [spec.name, spec.version]);
      const locked = await client.query<{ version: number; saved_search_path: string }>(
        `SELECT version, current_setting('search_path') AS saved_search_path FROM projection_checkpoints WHERE name = $1 FOR UPDATE`,
        [spec.name],
      );
      const row = locked.rows[0];
      // Another version's DDL must not touch these rows: a rebuild replaces them instead.
      if (row && row.version === spec.version) {
        const live = projectionSchema(spec.name);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(live)}`);
        await setLocalSearchPath(client, pg.escapeIdentifier(live));
        await client.query(spec.schemaSql);
        await setLocalSearchPath(client, row.saved_search_path);
      }
      return { commit: true, value: undefined };
    });
    const [record] = await this.read([spec.name]);
    if (!record) throw new Error(`projection ${spec.name} was registered but cannot be read back`);
    return record;
  }

  async read(names?: readonly string[]): Promise<ProjectionRecord[]> {
    const result = await this.pool.query<RecordRow>(READ_RECORDS, [names ? [...names] : null]);
    return result.rows.map(recordFromRow);
  }

  async readCheckpoints(names: readonly string[]): Promise<Map<string, Position>> {
    const result = await this.pool.query<{ name: string; checkpoint_commit: string; checkpoint_prepare: string }>(READ_CHECKPOINTS, [[...names]]);
    return new Map(result.rows.map((r) => [r.name, positionOf(r.checkpoint_commit, r.checkpoint_prepare)]));
  }

  commitBatch<F>(
    batch: { readonly name: string; readonly version: number; readonly schema: string; readonly from: Position; readonly to: Position },
    work: TransactionWork<readonly PositionedChange[], F>,
  ): Promise<BatchOutcome<F>> {
    return inTransaction<BatchOutcome<F>>(this.pool, async (client) => {
      const locked = await client.query<LockedRecord>(LOCK_RECORD, [batch.name]);
      const row = locked.rows[0];
      if (!row) throw new Error(`projection ${batch.name} is not registered`);
      const current = positionOf(row.checkpoint_commit, row.checkpoint_prepare);
      // A rebuild may have switched in rows of another version at the same checkpoint: this
      // runner's handler must not write into them; it re-reads the record and steps aside.
      if (comparePositions(current, batch.from) !== 0 || row.version !== batch.version) {
        return { commit: false, value: { kind: 'checkpoint_moved', checkpoint: current } };
      }

      // After the lock: a rebuild switch that renamed schemas meanwhile is already visible.
      await setLocalSearchPath(client, pg.escapeIdentifier(batch.schema));
      const done = await work(sqlExecutor(client));
      if (!done.ok) return { commit: false, value: { kind: 'rejected', reason: done.error } };
      await setLocalSearchPath(client, row.saved_search_path);

      const rows = realtimeRows(done.value);
      if (rows.length > 0) await client.query(INSERT_CHANGES, [batch.name, JSON.stringify(rows)]);
      await client.query(ADVANCE_CHECKPOINT, [batch.name, batch.to.commit.toString(), batch.to.prepare.toString()]);
      await client.query(rows.length > 0 ? NOTIFY_PROGRESS_AND_CHANGES : NOTIFY_PROGRESS, [batch.name]);
      return { commit: true, value: { kind: 'committed', checkpoint: batch.to } };
    });
  }

  commitBatches<F>(parts: readonly BatchPart<F>[]): Promise<BatchOutcome<F>[]> {
    if (parts.length === 0) return Promise.resolve([]);
    const names = parts.map((p) => p.batch.name);
    if (new Set(names).size !== names.length) throw new Error(`commitBatches: a projection appears twice in ${names.join(', ')}`);
    return inTransaction<BatchOutcome<F>[]>(this.pool, async (client) => {
      const locked = await client.query<LockedRecord & { name: string }>(LOCK_RECORDS, [names]);
      const records = new Map(locked.rows.map((r) => [r.name, r]));
      const outcomes: BatchOutcome<F>[] = [];
      const changes: { projection: string; topic: string; type: string; commit: string; prepare: string; data: unknown }[] = [];
      const moved: { name: string; to: Position }[] = [];
      for (const { batch, work } of parts) {
        const row = records.get(batch.name);
        if (!row) throw new Error(`projection ${batch.name} is not registered`);
        const current = positionOf(row.checkpoint_commit, row.checkpoint_prepare);
        if (comparePositions(current, batch.from) !== 0 || row.version !== batch.version) {
          outcomes.push({ kind: 'checkpoint_moved', checkpoint: current });
          continue;
        }
        // A savepoint per part: one part's failure rolls back that part alone. One round trip
        // (simple protocol, so the schema goes inline as a literal).
        await client.query(`SAVEPOINT projection_part; SELECT set_config('search_path', ${pg.escapeLiteral(pg.escapeIdentifier(batch.schema))}, true)`);
        const done = await work(sqlExecutor(client));
        if (!done.ok) {
          await client.query('ROLLBACK TO SAVEPOINT projection_part; RELEASE SAVEPOINT projection_part');
          outcomes.push({ kind: 'rejected', reason: done.error });
          continue;
        }
        await client.query('RELEASE SAVEPOINT projection_part');
        for (const r of realtimeRows(done.value)) changes.push({ projection: batch.name, ...r });
        moved.push({ name: batch.name, to: batch.to });
        outcomes.push({ kind: 'committed', checkpoint: batch.to });
      }
      if (moved.length === 0) return { commit: false, value: outcomes };
      await setLocalSearchPath(client, locked.rows[0]?.saved_search_path ?? '"$user", public');
      if (changes.length > 0) await client.query(INSERT_CHANGES_OF_MANY, [JSON.stringify(changes)]);
      await client.query(ADVANCE_CHECKPOINTS, [
        moved.map((m) => m.name),
        moved.map((m) => m.to.commit.toString()),
        moved.map((m) => m.to.prepare.toString()),
      ]);
      await client.query(NOTIFY_PROGRESS_OF_MANY, [moved.map((m) => m.name)]);
      if (changes.length > 0) await client.query(NOTIFY_CHANGES, [moved[0]?.name ?? '']);
      return { commit: true, value: outcomes };
    });
  }

  isTransientError(error: unknown): boolean {
    if (typeof error !== 'object' || error === null) return false;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODES.has(code))) return true;
    const message = (error as { message?: unknown }).message;
    // node-postgres reports a connection lost mid-query without a code.
    return typeof message === 'string' && /Connection terminated|connection error|not queryable/i.test(message);
  }

  async recordFailure(name: string, failure: ProjectionFailure): Promise<void> {
    await this.pool.query(RECORD_FAILURE, [
      name,
      storedFailureMessage(failure.message),
      failure.position.commit.toString(),
      failure.position.prepare.toString(),
      failure.eventId,
    ]);
  }

  async clearFailure(name: string): Promise<boolean> {
    const result = await this.pool.query(CLEAR_FAILURE, [name]);
    return (result.rowCount ?? 0) > 0;
  }

  async resetSchema(schema: string, schemaSql: string): Promise<void> {
    assertScratch(schema);
    await inTransaction(this.pool, async (client) => {
      const saved = await currentSearchPath(client);
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
      await setLocalSearchPath(client, pg.escapeIdentifier(schema));
      await client.query(schemaSql);
      await setLocalSearchPath(client, saved);
      return { commit: true, value: undefined };
    });
  }

  async dropSchema(schema: string): Promise<void> {
    assertScratch(schema);
    await this.pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  }

  applyInSchema<F>(schema: string, work: TransactionWork<void, F>): Promise<Result<void, F>> {
    return inTransaction<Result<void, F>>(this.pool, async (client) => {
      await setLocalSearchPath(client, pg.escapeIdentifier(schema));
      const done = await work(sqlExecutor(client));
      return { commit: done.ok, value: done };
    });
  }

  async recordRebuildProgress(name: string, progress: RebuildProgress | null): Promise<void> {
    if (progress === null) {
      await this.pool.query(DELETE_REBUILD_PROGRESS, [name]);
      return;
    }
    await this.pool.query(UPSERT_REBUILD_PROGRESS, [
      name,
      progress.processed,
      progress.position.commit.toString(),
      progress.position.prepare.toString(),
      progress.head?.commit.toString() ?? null,
      progress.head?.prepare.toString() ?? null,
      progress.startedAt,
    ]);
  }

  finishRebuild<F>(
    request: { readonly spec: ProjectionSpec; readonly schema: string; readonly mode: 'switch' | 'compare' },
    catchUp: (sql: SqlExecutor, liveCheckpoint: Position) => Promise<Result<Position, F>>,
  ): Promise<FinishRebuildOutcome<F>> {
    const { spec, schema, mode } = request;
    assertScratch(schema);
    const live = projectionSchema(spec.name);
    const old = `${live}__old`;
    return inTransaction<FinishRebuildOutcome<F>>(this.pool, async (client) => {
      // Bounded: better to fail the rebuild than to stall the live runner and readers behind a long wait.
      await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${this.switchLockTimeoutMs}ms`]);
      const locked = await client.query<LockedRecord>(LOCK_RECORD, [spec.name]);
      const row = locked.rows[0];
      if (!row) throw new Error(`projection ${spec.name} is not registered`);
      const liveCheckpoint = positionOf(row.checkpoint_commit, row.checkpoint_prepare);

      await setLocalSearchPath(client, pg.escapeIdentifier(schema));
      const reached = await catchUp(sqlExecutor(client), liveCheckpoint);
      if (!reached.ok) return { commit: false, value: { kind: 'rejected', reason: reached.error } };
      await setLocalSearchPath(client, row.saved_search_path);
      const checkpoint = comparePositions(reached.value, liveCheckpoint) > 0 ? reached.value : liveCheckpoint;

      if (mode === 'compare') {
        const differences = await compareSchemas(client, live, schema);
        // Nothing to keep: the caller drops the scratch schema.
        return { commit: false, value: { kind: 'compared', checkpoint, differences } };
      }

      const liveExists = await client.query<{ present: boolean }>(SCHEMA_EXISTS, [live]);
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(old)} CASCADE`);
      if (liveExists.rows[0]?.present) await client.query(`ALTER SCHEMA ${pg.escapeIdentifier(live)} RENAME TO ${pg.escapeIdentifier(old)}`);
      await client.query(`ALTER SCHEMA ${pg.escapeIdentifier(schema)} RENAME TO ${pg.escapeIdentifier(live)}`);
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(old)} CASCADE`);
      await client.query(SWITCHED_RECORD, [spec.name, spec.version, checkpoint.commit.toString(), checkpoint.prepare.toString()]);
      await client.query(NOTIFY_PROGRESS, [spec.name]);
      return { commit: true, value: { kind: 'switched', checkpoint } };
    });
  }

  /** Releases leases and closes their connection. The pool is the caller's. */
  async close(): Promise<void> {
    await this.leases.close();
  }
}

/** One row per (change, topic), as realtime_changes stores them. */
function realtimeRows(changes: readonly PositionedChange[]): { topic: string; type: string; commit: string; prepare: string; data: unknown }[] {
  const rows = [];
  for (const change of changes) {
    for (const topic of change.topics) {
      rows.push({ topic, type: change.type, commit: change.position.commit.toString(), prepare: change.position.prepare.toString(), data: change.data ?? null });
    }
  }
  return rows;
}

async function currentSearchPath(client: pg.ClientBase): Promise<string> {
  const result = await client.query<{ search_path: string }>(`SELECT current_setting('search_path') AS search_path`);
  return result.rows[0]?.search_path ?? '"$user", public';
}

/** The failure message as kept: bounded, never empty. (Exported for the in-memory test double.) */
export const storedFailureMessage = (message: string): string => message.slice(0, MAX_ERROR_LENGTH) || 'handler failed';

/** Throws unless `schema` is a rebuild or audit schema. (Exported for the in-memory test double.) */
export function assertScratch(schema: string): void {
  if (!SCRATCH_SCHEMA.test(schema)) throw new Error(`refusing to drop or reset ${schema}: not a rebuild or audit schema`);
}
