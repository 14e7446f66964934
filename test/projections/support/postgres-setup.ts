import pg from 'pg';
import type { Position } from '../../../src/application/ports/position.js';
import { comparePositions, parsePosition } from '../../../src/application/ports/position.js';
import { PostgresEventStore } from '../../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../../../src/infrastructure/postgres/migrator.js';
import { createPool } from '../../../src/infrastructure/postgres/pool.js';
import { PostgresProjectionStore } from '../../../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { projectionMigrations } from '../../../src/infrastructure/postgres/projections/schema.js';
import { realtimeMigrations } from '../../../src/infrastructure/postgres/realtime/schema.js';
import type { TestDatabase } from '../../support/pg.js';
import { createTestDatabase } from '../../support/pg.js';

/** One service instance's worth of adapters on a database: its own pool, event store and projection store. */
export interface Instance {
  readonly name: string;
  readonly pool: pg.Pool;
  readonly eventStore: PostgresEventStore;
  readonly store: PostgresProjectionStore;
  close(): Promise<void>;
}

export interface ProjectionTestDatabase {
  readonly db: TestDatabase;
  /** Another "service instance": a separate pool, so separate sessions and leases. */
  instance(name: string): Instance;
  /** Closes every instance and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with the event store, realtime and projection tables. Throws when PostgreSQL is missing. */
export async function projectionTestDatabase(label: string): Promise<ProjectionTestDatabase> {
  const db = await createTestDatabase(label);
  await migrate(db.pool, [...eventStoreMigrations, ...realtimeMigrations, ...projectionMigrations]);
  const instances: Instance[] = [];
  return {
    db,
    instance(name) {
      const pool = createPool({ connectionString: db.url, max: 8, applicationName: `test-${name}` });
      const eventStore = new PostgresEventStore(pool, { pollIntervalMs: 50 });
      const store = new PostgresProjectionStore(pool, { leaseHeartbeatMs: 200 });
      let closed = false;
      const instance: Instance = {
        name,
        pool,
        eventStore,
        store,
        async close() {
          if (closed) return;
          closed = true;
          await store.close();
          await eventStore.close();
          await pool.end();
        },
      };
      instances.push(instance);
      return instance;
    },
    async drop() {
      await Promise.all(instances.map((i) => i.close().catch(() => undefined)));
      await db.drop();
    },
  };
}

/** Rows of a projection table, read through the test database's own pool. */
/** 0 while the table does not exist yet (the runner creates it on its first lease). */
export async function count(pool: pg.Pool, table: string): Promise<number> {
  const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).catch(missingTable);
  return Number(result.rows[0]?.n ?? 0);
}

export async function counterOf(pool: pg.Pool, schema: string): Promise<number> {
  const result = await pool.query<{ n: string }>(`SELECT n FROM ${pg.escapeIdentifier(schema)}.counter WHERE id = 1`).catch(missingTable);
  return Number(result.rows[0]?.n ?? 0);
}

function missingTable(error: unknown): { rows: { n: string }[] } {
  if ((error as { code?: string }).code === '42P01') return { rows: [] };
  throw error;
}

export async function checkpointOf(pool: pg.Pool, name: string): Promise<string | undefined> {
  const result = await pool.query<{ c: string }>(
    `SELECT checkpoint_commit::text || '.' || checkpoint_prepare::text AS c FROM projection_checkpoints WHERE name = $1`,
    [name],
  );
  return result.rows[0]?.c;
}

/** Whether the projection's checkpoint is at or after `target` (positions only move forward). */
export async function reached(pool: pg.Pool, name: string, target: Position | undefined): Promise<boolean> {
  const text = await checkpointOf(pool, name);
  const checkpoint = text === undefined ? undefined : parsePosition(text);
  if (checkpoint === undefined) return false;
  return target === undefined || comparePositions(checkpoint, target) >= 0;
}
