import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import type pg from 'pg';
import { formatPosition } from '../application/ports/position.js';
import type { EventStore } from '../application/ports/event-store.js';
import { readProjectionStatuses } from '../projections/status.js';
import type { Config } from './config/config.js';
import type { CompositionOverrides } from './container/composition-root.js';
import { buildContainer } from './container/composition-root.js';
import { TOKENS } from './container/tokens.js';
import { createHttpApp } from './http/app.js';
import { createRateLimiter } from './http/rate-limit.js';
import type { Logger } from './logging/logger.js';
import { allMigrations } from './postgres/all-migrations.js';
import { migrate } from './postgres/migrator.js';
import { createPool, ensureDatabase } from './postgres/pool.js';
import { attachRealtime } from './realtime/index.js';

export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly container: Container;
  /** Stop accepting, drain requests, close sockets, stop projections at a committed checkpoint. */
  stop(): Promise<void>;
}

/**
 * Connects to PostgreSQL (creating the database if it may), applies the schema. `serve`
 * bounds each pool statement by DATABASE_QUERY_TIMEOUT_MS so requests fail fast when the
 * database is cut off; tools (rebuild, audit) keep statements unbounded but for the server's.
 */
export async function prepareDatabase(config: Config, logger: Logger, purpose: 'serve' | 'tool' = 'tool'): Promise<pg.Pool> {
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    ...(purpose === 'serve' ? { queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS } : {}),
    logger: logger.child({ component: 'postgres' }),
  });
  try {
    const applied = await migrate(pool, allMigrations);
    if (applied.length > 0) logger.info({ applied }, 'schema migrated');
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

/**
 * Creates each projection's record and live tables, so queries work on an instance that
 * runs no projection (PROJECTIONS_ENABLED=false) before any runner ever took a lease.
 */
export async function registerProjections(container: Container): Promise<void> {
  const store = container.get(TOKENS.ProjectionStore);
  for (const projection of container.get(TOKENS.Projections)) await store.register(projection);
}

/** A dependency the service cannot run without, described for the one line an operator reads. */
export class DependencyUnavailable extends Error {
  override readonly name = 'DependencyUnavailable';
}

const PROBE_TIMEOUT_MS = 5_000;

async function probeEventStore(config: Config, eventStore: EventStore): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([eventStore.headPosition(), timeout]);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw config.EVENT_STORE === 'eventstoredb'
      ? new DependencyUnavailable(`EventStoreDB is not reachable at ${config.EVENTSTORE_URL ?? '?'} (${reason}): start it (docker compose up eventstore) or set EVENT_STORE=postgres`)
      : new DependencyUnavailable(`the PostgreSQL event store did not answer (${reason}); check DATABASE_URL`);
  } finally {
    clearTimeout(timer);
  }
}

const IDEMPOTENCY_PRUNE_INTERVAL_MS = 10 * 60_000;

export async function startService(config: Config, logger: Logger, overrides: CompositionOverrides = {}): Promise<RunningService> {
  const pool = await prepareDatabase(config, logger, 'serve');
  const container = buildContainer(config, logger, pool, overrides);
  const eventStore = container.get(TOKENS.EventStore);
  const runner = container.get(TOKENS.ProjectionRunner);
  const waiter = container.get(TOKENS.CheckpointWaiter);
  const idempotency = container.get(TOKENS.IdempotencyStore);
  try {
    await probeEventStore(config, eventStore);
    await registerProjections(container);
  } catch (error) {
    await eventStore.close().catch(() => undefined);
    await pool.end();
    throw error;
  }
  const statusDeps = {
    store: container.get(TOKENS.ProjectionStore),
    eventStore,
    projections: container.get(TOKENS.Projections),
  };

  // Resolved now, not on the first request: key files are read (a bad path fails the start,
  // naming the setting) and the development-defaults warning is logged once.
  const authenticator = container.get(TOKENS.Authenticator);
  const rateLimiter = await createRateLimiter(
    { store: config.RATE_LIMIT_STORE, perMinute: config.RATE_LIMIT_PER_MINUTE, unauthenticatedPerMinute: config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE },
    pool,
  );
  const app = createHttpApp({
    authenticator,
    rateLimiter,
    cors: { origins: config.CORS_ORIGINS },
    metricsAuth: config.METRICS_AUTH,
    production: config.NODE_ENV === 'production',
    trustProxy: config.TRUST_PROXY_HOPS,
    payments: container.get(TOKENS.PaymentCommands),
    paymentQueries: container.get(TOKENS.PaymentQueries),
    readModels: {
      waitForPosition: (projection, position, timeoutMs) => waiter.waitForPosition(projection, position, timeoutMs),
      status: () => readProjectionStatuses(statusDeps),
    },
    idempotency,
    readiness: [
      { name: 'postgres', check: async () => { await pool.query('SELECT 1'); } },
      { name: 'event-store', check: async () => { await eventStore.headPosition(); } },
    ],
    logger: logger.child({ component: 'http' }),
    metrics: container.get(TOKENS.Metrics),
    clock: container.get(TOKENS.Clock),
    limits: { bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES, requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS },
  });

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, app);
  // Slow clients cannot hold sockets forever; keep-alive outlives typical load balancers' idle timeout.
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS + 5_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  server.maxRequestsPerSocket = 10_000;

  const realtime = attachRealtime(server, {
    pool,
    logger: logger.child({ component: 'realtime' }),
    retention: { retentionMs: config.REALTIME_RETENTION_HOURS * 3_600_000 },
    authenticator,
    clock: container.get(TOKENS.Clock),
    ...(config.CORS_ORIGINS.length > 0 ? { serverOptions: { cors: { origin: config.CORS_ORIGINS, credentials: false } } } : {}),
  });
  waiter.start();
  if (config.PROJECTIONS_ENABLED) runner.start();
  const pruneTimer = setInterval(() => {
    idempotency.pruneExpired().catch((error: unknown) => logger.warn({ err: error }, 'idempotency pruning failed'));
  }, IDEMPOTENCY_PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const head = await eventStore.headPosition();
  logger.info({ port, eventStore: config.EVENT_STORE, provider: config.PAYMENT_PROVIDER, head: head ? formatPosition(head) : null }, 'ledger listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(pruneTimer);
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await realtime.close();
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.SHUTDOWN_GRACE_MS).unref());
      if ((await Promise.race([drained.then(() => 'drained' as const), grace])) === 'timeout') {
        logger.warn({ graceMs: config.SHUTDOWN_GRACE_MS }, 'requests still running after the grace period; closing their connections');
        server.closeAllConnections();
        await drained;
      }
      await runner.stop();
      waiter.close();
      await container.get(TOKENS.ProgressFeed).close();
      await container.get(TOKENS.ProjectionStore).close();
      await container.get(TOKENS.ApiKeys).flush();
      await eventStore.close();
      await pool.end();
      logger.info('ledger stopped');
    })();
    return stopping;
  };

  return { url: `http://127.0.0.1:${port}`, port, container, stop };
}
