import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import { TimeoutError, withTimeout } from '../application/support/timing.js';
import type pg from 'pg';
import { formatPosition } from '../application/ports/position.js';
import type { EventStore } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import type { Config } from './config/config.js';
import type { CompositionOverrides } from './container/composition-root.js';
import { buildContainer } from './container/composition-root.js';
import type { BackgroundTask } from './container/lifecycle.js';
import { TOKENS } from './container/tokens.js';
import type { Logger } from './logging/logger.js';
import { allMigrations } from './postgres/all-migrations.js';
import { migrate } from './postgres/migrator.js';
import { createPool, ensureDatabase } from './postgres/pool.js';
import type { RealtimeHandle } from './realtime/index.js';

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
  // The activity feed's collections (or tables) and indexes, before any query reads them.
  try {
    await container.get(TOKENS.ActivityFeed).prepare();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new DependencyUnavailable(`the activity feed's store did not answer (${reason}); check MONGO_URL, or unset it to keep the feed in PostgreSQL`);
  }
}

/** A dependency the service cannot run without, described for the one line an operator reads. */
export class DependencyUnavailable extends Error {
  override readonly name = 'DependencyUnavailable';
}

const PROBE_TIMEOUT_MS = 5_000;

/** The head of the log, or DependencyUnavailable when the event store does not answer in time. */
async function probeEventStore(config: Config, eventStore: EventStore): Promise<Position | undefined> {
  try {
    return await withTimeout(eventStore.headPosition(), PROBE_TIMEOUT_MS, 'the event store');
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw config.EVENT_STORE === 'eventstoredb'
      ? new DependencyUnavailable(`EventStoreDB is not reachable at ${config.EVENTSTORE_URL ?? '?'} (${reason}): start it (docker compose up eventstore) or set EVENT_STORE=postgres`)
      : new DependencyUnavailable(`the PostgreSQL event store did not answer (${reason}); check DATABASE_URL`);
  }
}

/**
 * The HTTP port could not be bound; the message is the one line an operator reads. It keeps
 * the name DependencyUnavailable: the CLI prints errors of that name as one line.
 */
export class PortUnavailable extends DependencyUnavailable {}

function portUnavailable(error: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new PortUnavailable(`port ${port} on ${host} is already in use: stop what holds it, or set PORT`);
    case 'EACCES':
      return new PortUnavailable(`port ${port} on ${host} needs privileges this process does not have: set PORT to 1024 or above`);
    case 'EADDRNOTAVAIL':
      return new PortUnavailable(`cannot listen on ${host} (port ${port}): it is not an address of this machine; check HOST`);
    default:
      return error;
  }
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(portUnavailable(error, port, host));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops the background tasks in reverse start order (each is safe to stop before it
 * started), then closes the adapters and the pool. Goes on past a failing step, so that a
 * failed start leaves nothing running; the first error is thrown at the end.
 */
async function release(container: Container, pool: pg.Pool, tasks: readonly BackgroundTask[], logger: Logger): Promise<void> {
  let firstError: Error | undefined;
  const step = async (name: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      logger.warn({ err: error, step: name }, 'stopping: a step failed');
      firstError ??= error instanceof Error ? error : new Error(`${name}: ${String(error)}`);
    }
  };
  for (const task of [...tasks].reverse()) await step(task.name, () => task.stop());
  await step('progress feed', () => container.get(TOKENS.ProgressFeed).close());
  await step('projection store', () => container.get(TOKENS.ProjectionStore).close());
  await step('activity feed', () => container.get(TOKENS.ActivityFeed).close());
  await step('api keys', () => container.get(TOKENS.ApiKeys).flush());
  await step('event store', () => container.get(TOKENS.EventStore).close());
  await step('pool', () => pool.end());
  if (firstError !== undefined) throw firstError;
}

/**
 * Starts the service: schema, composition, then the HTTP port, and only once the port is
 * bound the background tasks (projections, realtime tail, checkpoint waiter, pruning). A
 * start that fails (a dependency, the port) stops what it started and closes the pool
 * before it rejects, so the process can exit at once.
 */
export async function startService(config: Config, logger: Logger, overrides: CompositionOverrides = {}): Promise<RunningService> {
  const pool = await prepareDatabase(config, logger, 'serve');
  const container = buildContainer(config, logger, pool, overrides);
  let tasks: readonly BackgroundTask[] = [];
  let server: http.Server;
  let realtime: RealtimeHandle;
  let port: number;
  let head: Position | undefined;
  try {
    // Resolving the server resolves the authenticator: key files are read (a bad path
    // fails the start, naming the setting) and the development-defaults warning is logged once.
    server = await container.getAsync(TOKENS.HttpServer);
    realtime = await container.getAsync(TOKENS.Realtime);
    tasks = await container.getAsync(TOKENS.BackgroundTasks);
    head = await probeEventStore(config, container.get(TOKENS.EventStore));
    await registerProjections(container);
    port = await listen(server, config.PORT, config.HOST);
  } catch (error) {
    await release(container, pool, tasks, logger).catch(() => undefined);
    throw error;
  }
  for (const task of tasks) task.start();
  logger.info(
    { host: config.HOST, port, eventStore: config.EVENT_STORE, provider: config.PAYMENT_PROVIDER, head: head ? formatPosition(head) : null },
    `ledger listening on ${config.HOST}:${port}`,
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Sockets first: Socket.IO connections would keep the server from draining.
      await realtime.close();
      try {
        await withTimeout(drained, config.SHUTDOWN_GRACE_MS, 'draining requests');
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        logger.warn({ graceMs: config.SHUTDOWN_GRACE_MS }, 'requests still running after the grace period; closing their connections');
        server.closeAllConnections();
        await drained;
      }
      await release(container, pool, tasks, logger);
      logger.info('ledger stopped');
    })();
    return stopping;
  };

  return { url: `http://127.0.0.1:${port}`, port, container, stop };
}
