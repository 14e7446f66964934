import pg from 'pg';

// int8 columns (positions, revisions, amounts) come back as strings by default; we
// convert where we read them rather than globally, so no caller is surprised.

export interface PoolOptions {
  readonly connectionString: string;
  readonly max?: number;
  readonly applicationName?: string;
  /**
   * Longest wait for a connection: a new one, or a free one from a full pool. The service
   * sets 2 s (DATABASE_CONNECT_TIMEOUT_MS): a database that does not accept a connection in
   * that time is down, or we are overloaded. Default 5 s.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Longest one `pool.query` statement may take before its caller gets an error (the
   * connection is then discarded): what turns a silently cut connection into a fast failure.
   * The service sets 2.5 s (DATABASE_QUERY_TIMEOUT_MS); default none, for tools and
   * benchmarks whose single statements (bulk fills, VACUUM) run long. Transactions on a
   * checked-out client (projection batches and rebuilds, migrations, LISTEN connections) are
   * never bound by it, only by the server-side statement timeout, so they may run long.
   */
  readonly queryTimeoutMs?: number;
  /** Where the one line per outage goes (and the one when it ends). Default: nowhere. */
  readonly logger?: PoolLogger;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Server side, for every connection: a statement running longer is a bug or an overload. */
const STATEMENT_TIMEOUT_MS = 30_000;
/** Dead peers behind a NAT or a proxy are noticed by TCP, not only by the next query. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/** Satisfied by a pino Logger. */
export interface PoolLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'ledger',
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
  });
  // An idle client's connection dying must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  watchAvailability(pool, options.queryTimeoutMs, new OutageLog(options.logger));
  return pool;
}

/*
 * Errors that say the database cannot be reached right now, rather than that a statement
 * is wrong: the caller should answer "unavailable, retry" and not log a bug. Node socket
 * codes; SQLSTATE class 08 (connection exception), 57P01–57P03 (admin or crash shutdown,
 * cannot connect now), 53300 (too many connections); and node-postgres's own messages for
 * a lost connection or one of our timeouts (they carry no code).
 */
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|not queryable|canceling statement due to statement timeout/;
/** Causes are followed this deep (an error wrapped in an error wrapped in an AggregateError). */
const MAX_CAUSE_DEPTH = 4;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > MAX_CAUSE_DEPTH) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // By message, so that 57014 counts only for a statement timeout, not an operator's pg_cancel_backend.
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** The cause of an outage in one short string for the log: a code and the first line of the message. */
function describeCause(error: unknown): string {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message !== '' ? message.split('\n')[0] : String(error);
  return typeof code === 'string' && !String(text).includes(code) ? `${code}: ${text}` : String(text);
}

/**
 * One warning when the database stops answering, one line when it answers again (with how
 * long it was gone and how many operations failed meanwhile), nothing per request between.
 */
export class OutageLog {
  private outage: { readonly sinceMs: number; lastFailureMs: number; failures: number } | undefined;

  constructor(private readonly logger: PoolLogger | undefined) {}

  get inOutage(): boolean {
    return this.outage !== undefined;
  }

  /** `startedAtMs` (performance.now() when the operation began) orders it against answers. */
  failed(error: unknown, startedAtMs: number = performance.now()): void {
    // A statement the database refused (a constraint, a syntax error) is an answer all the same.
    if (!isDatabaseUnavailable(error)) {
      this.answered(startedAtMs);
      return;
    }
    const now = performance.now();
    if (this.outage) {
      this.outage.failures++;
      this.outage.lastFailureMs = now;
      return;
    }
    this.outage = { sinceMs: now, lastFailureMs: now, failures: 1 };
    this.logger?.warn({ cause: describeCause(error) }, 'database unavailable: requests that need it answer 503 until it is back');
  }

  /**
   * Only an operation that began after the latest failure proves the database is back: one
   * that was already on the wire when the connections broke may still complete, and taking
   * it as the heal would log a second outage a moment later.
   */
  answered(startedAtMs: number = Number.POSITIVE_INFINITY): void {
    const outage = this.outage;
    if (!outage || startedAtMs <= outage.lastFailureMs) return;
    this.outage = undefined;
    this.logger?.info({ downMs: Math.round(performance.now() - outage.sinceMs), failedOperations: outage.failures }, 'database available again');
  }
}

/*
 * Gives every promise-style `pool.query` the client-side timeout (when there is one), and
 * tells the outage log how each one (and each checkout) went. Callback and submittable
 * (cursor) forms pass through untouched.
 */
function watchAvailability(pool: pg.Pool, queryTimeoutMs: number | undefined, outages: OutageLog): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<pg.PoolClient>;
  const report = <T>(start: () => Promise<T>): Promise<T> => {
    const startedAtMs = performance.now();
    return start().then(
      (value) => {
        outages.answered(startedAtMs);
        return value;
      },
      (error: unknown) => {
        outages.failed(error, startedAtMs);
        throw error;
      },
    );
  };
  pool.query = (...args: unknown[]) => {
    const [config, values, callback] = args;
    const submittable = typeof config === 'object' && config !== null && typeof (config as { submit?: unknown }).submit === 'function';
    if (submittable || typeof values === 'function' || typeof callback === 'function') return query(...args);
    const timeout = queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs };
    const timed = typeof config === 'string' ? { text: config, ...timeout } : { ...timeout, ...(config as object) };
    return report(() => (values === undefined ? query(timed) : query(timed, values)));
  };
  pool.connect = (...args: unknown[]) => (args.length > 0 ? connect(...args) : report(() => connect()));
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
