import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/infrastructure/postgres/pool.js';

/**
 * The server the benchmarks run against. Only its host, port and credentials are used:
 * every benchmark creates (and drops) a database of its own through the `postgres` one.
 */
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlFor(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export const ADMIN_URL = urlFor('postgres');

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool built as the service builds its own (src/infrastructure/postgres/pool.ts); ended by drop(). */
  createPool(max: number, applicationName: string): pg.Pool;
  drop(): Promise<void>;
}

/** Databases created and not yet dropped: a signal handler drops them on the way out. */
const live = new Set<BenchDatabase>();

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `ledger_bench_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const url = urlFor(name);
  const pools: pg.Pool[] = [];
  let dropped: Promise<void> | undefined;
  const db: BenchDatabase = {
    name,
    url,
    createPool(max, applicationName) {
      const pool = createPool({ connectionString: url, max, applicationName });
      pools.push(pool);
      return pool;
    },
    drop() {
      dropped ??= (async () => {
        live.delete(db);
        await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
        // FORCE: a connection some component forgot to close must not keep the database alive.
        await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
      })();
      return dropped;
    },
  };
  live.add(db);
  return db;
}

/** Runs `fn` against a fresh database and drops it afterwards, whether `fn` succeeded or not. */
export async function withBenchDatabase<T>(label: string, fn: (db: BenchDatabase) => Promise<T>): Promise<T> {
  const db = await createBenchDatabase(label);
  try {
    return await fn(db);
  } finally {
    await db.drop().catch((error: unknown) => {
      process.stderr.write(`warning: could not drop ${db.name}: ${String(error)}\n`);
    });
  }
}

/** For signal handlers: drops whatever is still there. */
export async function dropAllBenchDatabases(): Promise<void> {
  await Promise.all([...live].map((db) => db.drop().catch(() => undefined)));
}

/** Server version and the settings that matter most for write throughput. */
export async function serverInfo(): Promise<{ version: string; settings: Record<string, string> }> {
  return withAdmin(async (admin) => {
    const version = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]?.v ?? '?';
    const { rows } = await admin.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'wal_level', 'commit_delay')
        ORDER BY name`,
    );
    const settings: Record<string, string> = {};
    for (const r of rows) settings[r.name] = r.name === 'shared_buffers' ? `${(Number(r.setting) * 8) / 1024} MB` : r.setting + (r.unit && r.unit !== '8kB' ? r.unit : '');
    return { version, settings };
  });
}

/** Flushes dirty buffers so that a checkpoint does not land in the middle of a measurement. */
export async function checkpoint(pool: pg.Pool): Promise<void> {
  await pool.query('CHECKPOINT');
}
