import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Container } from 'inversify';
import type pg from 'pg';
import { AuditLog } from '../../application/audit/audit-log.js';
import { PaymentCommandHandlers } from '../../application/payments/payment-command-handlers.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { PaymentProvider } from '../../application/ports/payment-provider.js';
import { CheckpointWaiter } from '../../projections/checkpoint-waiter.js';
import { SqlPaymentQueries } from '../../projections/payments/payment-queries.js';
import { paymentsProjection } from '../../projections/payments/payments-projection.js';
import { ProjectionRebuilder } from '../../projections/rebuild.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { apiKeysFromConfig, authenticatorFromConfig } from '../auth/authenticator-from-config.js';
import type { Config } from '../config/config.js';
import { EventStoreDbEventStore } from '../eventstoredb/eventstoredb-event-store.js';
import type { Logger } from '../logging/logger.js';
import { LedgerMetrics } from '../metrics/metrics.js';
import { PostgresEventStore } from '../postgres/event-store/postgres-event-store.js';
import { PostgresIdempotencyStore } from '../postgres/idempotency/postgres-idempotency-store.js';
import { PostgresProjectionStore } from '../postgres/projections/postgres-projection-store.js';
import { PostgresProjectionProgressFeed } from '../postgres/projections/progress-feed.js';
import { sqlExecutor } from '../postgres/sql-executor.js';
import { SimulatedPaymentProvider } from '../simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../system/id-generator.js';
import { SystemClock } from '../system/system-clock.js';
import { TOKENS } from './tokens.js';

export interface CompositionOverrides {
  /** Tests and the benchmark swap the provider (a slow or failing one) without touching the rest. */
  readonly paymentProvider?: PaymentProvider;
}

function eventStoreFor(config: Config, pool: pg.Pool): EventStore {
  if (config.EVENT_STORE === 'eventstoredb') {
    if (!config.EVENTSTORE_URL) throw new Error('EVENTSTORE_URL is required when EVENT_STORE=eventstoredb');
    return new EventStoreDbEventStore(config.EVENTSTORE_URL);
  }
  return new PostgresEventStore(pool);
}

function paymentProviderFor(config: Config): PaymentProvider {
  switch (config.PAYMENT_PROVIDER) {
    case 'simulated':
      return new SimulatedPaymentProvider();
  }
}

/**
 * The one place that decides which adapter serves which port. Bindings are explicit
 * factories rather than decorator metadata: nothing here depends on how the code was
 * transpiled, and the domain and application layers stay free of the container.
 */
export function buildContainer(config: Config, logger: Logger, pool: pg.Pool, overrides: CompositionOverrides = {}): Container {
  const c = new Container();
  // Several containers can live in one process (tests, the benchmark): the suffix tells them apart.
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
  c.bind(TOKENS.Config).toConstantValue(config);
  c.bind(TOKENS.Logger).toConstantValue(logger);
  c.bind(TOKENS.Pool).toConstantValue(pool);
  c.bind(TOKENS.Clock).toConstantValue(new SystemClock());
  c.bind(TOKENS.IdGenerator).toConstantValue(new SystemIdGenerator());
  c.bind(TOKENS.Metrics).toConstantValue(new LedgerMetrics());
  c.bind(TOKENS.EventStore).toDynamicValue(() => eventStoreFor(config, pool)).inSingletonScope();
  c.bind(TOKENS.PaymentProvider).toDynamicValue(() => overrides.paymentProvider ?? paymentProviderFor(config)).inSingletonScope();
  c.bind(TOKENS.PaymentCommands)
    .toDynamicValue((ctx) => new PaymentCommandHandlers(
      ctx.get(TOKENS.EventStore),
      ctx.get(TOKENS.PaymentProvider),
      ctx.get(TOKENS.Clock),
      ctx.get(TOKENS.IdGenerator),
      { maxAttempts: 5 },
    ))
    .inSingletonScope();
  c.bind(TOKENS.Projections).toConstantValue([paymentsProjection]);
  c.bind(TOKENS.PaymentQueries).toDynamicValue(() => new SqlPaymentQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.ProjectionStore).toDynamicValue(() => new PostgresProjectionStore(pool)).inSingletonScope();
  const projectionDeps = (ctx: { get: Container['get'] }) => ({
    eventStore: ctx.get(TOKENS.EventStore),
    store: ctx.get(TOKENS.ProjectionStore),
    projections: ctx.get(TOKENS.Projections),
  });
  c.bind(TOKENS.ProjectionRunner)
    .toDynamicValue((ctx) => new ProjectionRunner(projectionDeps(ctx), {
      instanceId,
      batchSize: config.PROJECTION_BATCH_SIZE,
      logger: logger.child({ component: 'projections' }),
    }))
    .inSingletonScope();
  c.bind(TOKENS.ProjectionRebuilder)
    .toDynamicValue((ctx) => new ProjectionRebuilder(projectionDeps(ctx), {
      instanceId: `${instanceId}:rebuild`,
      batchSize: Math.max(config.PROJECTION_BATCH_SIZE, 2_000),
      logger: logger.child({ component: 'rebuild' }),
    }))
    .inSingletonScope();
  c.bind(TOKENS.ProgressFeed).toDynamicValue(() => new PostgresProjectionProgressFeed(pool)).inSingletonScope();
  c.bind(TOKENS.CheckpointWaiter)
    .toDynamicValue((ctx) => new CheckpointWaiter(
      { store: ctx.get(TOKENS.ProjectionStore), feed: ctx.get(TOKENS.ProgressFeed) },
      { logger: logger.child({ component: 'checkpoint-waiter' }) },
    ))
    .inSingletonScope();
  c.bind(TOKENS.IdempotencyStore).toDynamicValue(() => new PostgresIdempotencyStore(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.AuditLog)
    .toDynamicValue((ctx) => new AuditLog(ctx.get(TOKENS.EventStore), ctx.get(TOKENS.Clock), ctx.get(TOKENS.IdGenerator)))
    .inSingletonScope();
  c.bind(TOKENS.ApiKeys)
    .toDynamicValue((ctx) => apiKeysFromConfig(config, pool, ctx.get(TOKENS.AuditLog), { logger: logger.child({ component: 'api-keys' }) }))
    .inSingletonScope();
  // Resolving it reads the key files (a bad path is a ConfigError) and logs the
  // development-default warning once: resolve it at start, not on the first request.
  c.bind(TOKENS.Authenticator)
    .toDynamicValue((ctx) => authenticatorFromConfig(config, ctx.get(TOKENS.ApiKeys), logger.child({ component: 'auth' })))
    .inSingletonScope();
  return c;
}
