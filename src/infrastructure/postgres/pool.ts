import pg from 'pg';

// int8 columns (positions, revisions, amounts) come back as strings by default; we
// convert where we read them rather than globally, so no caller is surprised.

export interface PoolOptions {
  readonly connectionString: string;
  readonly max?: number;
  readonly applicationName?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'ledger',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A statement that runs longer than this is a bug or an overload; fail it rather than queue forever.
    statement_timeout: 30_000,
  });
  // An idle client's connection dying must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

/** A dependency we cannot reach, described for the one log line an operator reads. */
export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable';
}

const describe = (url: URL): string => `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;

/**
 * Connects to the database in `connectionString`, creating it first when it is missing
 * and the role may. Anything else that goes wrong becomes a DatabaseUnavailable whose
 * message says what to start or set.
 */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const probe = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (error) {
    await probe.end().catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (code !== '3D000') throw unavailable(url, error);
  }
  const adminUrl = new URL(connectionString);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42P04') {
      throw new DatabaseUnavailable(
        `PostgreSQL at ${describe(url)}: database "${dbName}" does not exist and could not be created (${(error as Error).message}); create it or set DATABASE_URL`,
      );
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function unavailable(url: URL, error: unknown): DatabaseUnavailable {
  const e = error as { code?: string; message?: string };
  const reason = e.code ?? e.message ?? String(error);
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new DatabaseUnavailable(
      `PostgreSQL is not reachable at ${describe(url)} (${reason}): start it (for example \`pg_ctlcluster 15 main start\`) or set DATABASE_URL`,
    );
  }
  return new DatabaseUnavailable(`PostgreSQL at ${describe(url)} refused the connection (${e.message ?? reason}); check DATABASE_URL`);
}
