import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/infrastructure/postgres/pool.js';

/** The server integration suites use. Under CI=true a missing server fails the suite. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test file: suites run in parallel without seeing each
 * other's events or read models. Dropped (forcefully) at the end.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `ledger_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL for integration tests is not reachable at ${TEST_DATABASE_URL}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = createPool({ connectionString: url.toString(), max: 20, applicationName: `test-${label}` });
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
