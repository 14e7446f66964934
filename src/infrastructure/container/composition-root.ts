import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { hostname } from 'node:os';
import { Container } from 'inversify';
import type pg from 'pg';
import { AuditLog } from '../../application/audit/audit-log.js';
import { PaymentCommandHandlers } from '../../application/payments/payment-command-handlers.js';
import type { Clock } from '../../application/ports/clock.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { DisputeCommands } from '../../application/ports/dispute-commands.js';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import { RefundCommandHandlers } from '../../application/refunds/refund-command-handlers.js';
import { RefundProcessManager } from '../../application/refunds/refund-process-manager.js';
import { RefundSteps } from '../../application/refunds/refund-steps.js';
import type { PaymentProvider } from '../../application/ports/payment-provider.js';
import type { ReadModels } from '../../application/ports/read-models.js';
import { ActivityFeedRunner } from '../../projections/activity/activity-feed-runner.js';
import { activityRealtimeProjection } from '../../projections/activity/activity-realtime-projection.js';
import { CheckpointWaiter } from '../../projections/checkpoint-waiter.js';
import { SqlLedgerQueries } from '../../projections/ledger/ledger-queries.js';
import { ledgerProjection } from '../../projections/ledger/ledger-projection.js';
import { SqlPaymentQueries } from '../../projections/payments/payment-queries.js';
import { paymentsProjection } from '../../projections/payments/payments-projection.js';
import { SqlRefundWorkQueue, refundWorkProjection } from '../../projections/refund-work/refund-work-projection.js';
import { DEFAULT_PAYMENT_INTENT_COMPLETER_OPTIONS, PaymentIntentCompleter } from '../../application/payments/payment-intent-completer.js';
import { PaymentIntents } from '../../application/payments/payment-intents.js';
import { PaymentIntentCompleterRunner } from '../../projections/payment-intents/payment-intent-completer-runner.js';
import { SqlPaymentIntentQueue, paymentIntentsProjection } from '../../projections/payment-intents/payment-intents-projection.js';
import { ProjectionRebuilder } from '../../projections/rebuild.js';
import { SqlRefundQueries } from '../../projections/refunds/refund-queries.js';
import { refundsProjection } from '../../projections/refunds/refunds-projection.js';
import { disputesProjection } from '../../projections/disputes/disputes-projection.js';
import { bindDisputes } from './disputes.js';
import { BILLING_PROJECTION, billingProjection } from '../../projections/billing/billing-projection.js';
import { BillingClockRunner } from '../../projections/billing/billing-clock-runner.js';
import { BillingProcessCheckpoint, BillingProcessRunner } from '../../projections/billing/billing-process-runner.js';
import { SqlBillingQueries } from '../../projections/billing/billing-queries.js';
import { SqlDueWorkSource } from '../../projections/billing/due-work-queries.js';
import { BillingClock, TestClocks } from '../../application/subscriptions/billing-clock.js';
import { BillingProcess } from '../../application/subscriptions/billing-process.js';
import { LogBillingSettler } from '../../application/subscriptions/billing-settler.js';
import type { BillingStepsConfig } from '../../application/subscriptions/billing-steps.js';
import { BillingSteps } from '../../application/subscriptions/billing-steps.js';
import { ClockBillingTime } from '../../application/subscriptions/billing-time.js';
import { SubscriptionCommandHandlers } from '../../application/subscriptions/subscription-command-handlers.js';
import { reportsProjection } from '../../projections/reports/reports-projection.js';
import { SqlRevenueReports } from '../../projections/reports/revenue-queries.js';
import { SqlMrrReports } from '../../projections/subscription-metrics/mrr-queries.js';
import { subscriptionMetricsProjection } from '../../projections/subscription-metrics/subscription-metrics-projection.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { readProjectionStatuses } from '../../projections/status.js';
import { apiKeysFromConfig, authenticatorFromConfig } from '../auth/authenticator-from-config.js';
import type { Config } from '../config/config.js';
import { EventStoreDbEventStore } from '../eventstoredb/eventstoredb-event-store.js';
import { createHttpApp } from '../http/app.js';
import type { ReadinessCheck } from '../http/deps.js';
import { createRateLimiter } from '../http/rate-limit.js';
import type { Logger } from '../logging/logger.js';
import { instrumentEventStore } from '../metrics/instrumented-event-store.js';
import { LedgerMetrics } from '../metrics/metrics.js';
import { projectionGaugeSource } from '../metrics/projection-gauges.js';
import { MongoActivityFeed } from '../mongo/mongo-activity-feed.js';
import { PostgresActivityFeed } from '../postgres/activity/postgres-activity-feed.js';
import { PostgresEventStore } from '../postgres/event-store/postgres-event-store.js';
import { PostgresIdempotencyStore } from '../postgres/idempotency/postgres-idempotency-store.js';
import { PostgresProjectionStore } from '../postgres/projections/postgres-projection-store.js';
import { PostgresProjectionProgressFeed } from '../postgres/projections/progress-feed.js';
import { sqlExecutor } from '../postgres/sql-executor.js';
import { readPaymentRequestBacklog } from '../../projections/payment-intents/payment-request-backlog.js';
import { SimulatedPaymentProvider } from '../simulated-provider/simulated-payment-provider.js';
import { stripeProviderFrom } from '../stripe/stripe-provider-from-config.js';
import { SystemIdGenerator } from '../system/id-generator.js';
import { SystemClock } from '../system/system-clock.js';
import { InboxProcessor } from '../../application/provider-events/inbox-processor.js';
import { StripeEventHandler } from '../../application/provider-events/stripe-event-handler.js';
import { PostgresProviderInbox } from '../postgres/inbox/postgres-provider-inbox.js';
import { StripeWebhookVerifier } from '../stripe/stripe-webhook-verifier.js';
import type { StripeWebhookHttpDeps } from '../http/deps.js';
import type { BackgroundTask } from './lifecycle.js';
import { createRealtime } from './realtime.js';
import { TOKENS } from './tokens.js';
import type { WebhookParts } from '../webhooks/webhook-module.js';
import { buildWebhooks } from '../webhooks/webhook-module.js';

export interface CompositionOverrides {
  /** Tests and the benchmark swap the provider (a slow or failing one) without touching the rest. */
  readonly paymentProvider?: PaymentProvider;
  /** Disputes for the Stripe webhook handler (tests give an in-memory one; the real one is wired here at merge). */
  readonly disputeCommands?: DisputeCommands;
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
    case 'stripe':
      return stripeProviderFrom(config);
  }
}

const IDEMPOTENCY_PRUNE_INTERVAL_MS = 10 * 60_000;
const WEBHOOK_INBOX_PRUNE_INTERVAL_MS = 60 * 60_000;
const WEBHOOK_DELIVERY_PRUNE_INTERVAL_MS = 60 * 60_000;
const HTTP_MAX_HEADER_BYTES = 16 * 1024;
const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** Longer than typical load balancers' idle timeout, so they close idle connections first. */
const HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HTTP_MAX_REQUESTS_PER_SOCKET = 10_000;

/**
 * Runs `work` every `intervalMs` between start and stop (never two at once); a failure is
 * logged, not fatal. Stop waits for a run in progress, so it never outlives the pool.
 */
function intervalTask(name: string, intervalMs: number, work: () => Promise<unknown>, logger: Logger): BackgroundTask {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;
  return {
    name,
    start: () => {
      timer ??= setInterval(() => {
        running ??= work()
          .then(() => undefined, (error: unknown) => logger.warn({ err: error, task: name }, `${name} failed`))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The refund process manager (application/refunds/refund-process-manager.ts) as a
 * background task: every instance that runs projections works the refund_work queue
 * (claims are exclusive per item and its steps idempotent, so no leader is needed).
 */
function refundProcessTask(
  eventStore: EventStore,
  provider: PaymentProvider,
  clock: Clock,
  ids: IdGenerator,
  pool: pg.Pool,
  logger: Logger,
): BackgroundTask {
  const manager = new RefundProcessManager(
    eventStore,
    new SqlRefundWorkQueue(sqlExecutor(pool)),
    new RefundSteps(eventStore, provider, clock, ids),
    undefined,
    logger.child({ component: 'refund-process-manager' }),
  );
  let controller: AbortController | undefined;
  let running: Promise<void> | undefined;
  return {
    name: 'refund-process-manager',
    start: () => {
      controller = new AbortController();
      running = manager.run(controller.signal);
    },
    stop: async () => {
      controller?.abort();
      await running;
    },
  };
}

/** The payment intent completer (application/payments/payment-intent-completer.ts) under its lease. */
function paymentIntentCompleterRunner(ctx: { get: Container['get'] }, config: Config, pool: pg.Pool, instanceId: string, logger: Logger): PaymentIntentCompleterRunner {
  const intents = new PaymentIntents(ctx.get(TOKENS.EventStore), ctx.get(TOKENS.PaymentProvider), ctx.get(TOKENS.Clock), ctx.get(TOKENS.IdGenerator));
  const completerLogger = logger.child({ component: 'payment-intent-completer' });
  const completer = new PaymentIntentCompleter(
    intents,
    new SqlPaymentIntentQueue(sqlExecutor(pool)),
    { ...DEFAULT_PAYMENT_INTENT_COMPLETER_OPTIONS, graceMs: config.PAYMENT_INTENT_GRACE_MS },
    completerLogger,
  );
  return new PaymentIntentCompleterRunner({ completer, leases: ctx.get(TOKENS.ProjectionStore) }, { instanceId, logger: completerLogger });
}

/**
 * Stripe webhooks (routes/stripe-webhooks.ts, application/provider-events): the inbox the
 * endpoint records into, and the processor that works it. Every instance that runs
 * background work runs a processor (claims are exclusive per event and lapse with a dead
 * holder, so no leader is needed); the endpoint wakes its own instance's at once.
 */
function stripeWebhooksWiring(config: Config, pool: pg.Pool, logger: Logger) {
  const inbox = new PostgresProviderInbox(sqlExecutor(pool), { relaxedProcessorCommits: pool, firstAttemptDelayMs: config.WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS });
  const verifier = config.STRIPE_WEBHOOK_SECRET.length > 0 ? new StripeWebhookVerifier(config.STRIPE_WEBHOOK_SECRET, config.STRIPE_WEBHOOK_TOLERANCE_SECONDS) : null;
  let processor: InboxProcessor | undefined;
  const processorFor = (deps: { eventStore: EventStore; provider: PaymentProvider; clock: Clock; ids: IdGenerator; disputes: DisputeCommands }): InboxProcessor =>
    (processor ??= new InboxProcessor(
      inbox,
      new StripeEventHandler({ store: deps.eventStore, provider: deps.provider, refundSteps: new RefundSteps(deps.eventStore, deps.provider, deps.clock, deps.ids), disputes: deps.disputes, clock: deps.clock, ids: deps.ids }),
      {
        maxAttempts: config.WEBHOOK_INBOX_MAX_ATTEMPTS,
        retryMinMs: config.WEBHOOK_INBOX_RETRY_MIN_MS,
        retryMaxMs: config.WEBHOOK_INBOX_RETRY_MAX_MS,
        batchSize: 20,
        concurrency: 4,
        claimLeaseMs: config.WEBHOOK_INBOX_CLAIM_LEASE_MS,
        idlePollMs: 1_000,
        wakeGatherMs: 10,
      },
      logger.child({ component: 'webhook-inbox' }),
    ));
  const http: StripeWebhookHttpDeps = { verifier, inbox, wake: () => processor?.wake() };
  const task = (deps: Parameters<typeof processorFor>[0]): BackgroundTask => {
    let controller: AbortController | undefined;
    let running: Promise<void> | undefined;
    return {
      name: 'webhook-inbox',
      start: () => {
        controller = new AbortController();
        running = processorFor(deps).run(controller.signal);
      },
      stop: async () => {
        controller?.abort();
        await running;
      },
    };
  };
  const pruning = intervalTask('webhook inbox pruning', WEBHOOK_INBOX_PRUNE_INTERVAL_MS, () => inbox.pruneDone(config.WEBHOOK_INBOX_RETENTION_DAYS), logger);
  return { http, task, pruning };
}

/**
 * The one place that decides which adapter serves which port and wires everything the
 * service runs: the HTTP app and server, Socket.IO, and the background tasks. Nothing is
 * started here; the service binds the port, then starts TOKENS.BackgroundTasks.
 *
 * Bindings are explicit factories rather than decorator metadata: nothing here depends on
 * how the code was transpiled, and the domain and application layers stay free of the
 * container. RateLimiter is async (its PostgreSQL store creates a table first), and so is
 * everything built on it (HttpServer, Realtime, BackgroundTasks): resolve those with getAsync.
 */
export function buildContainer(config: Config, logger: Logger, pool: pg.Pool, overrides: CompositionOverrides = {}): Container {
  const c = new Container();
  const stripeWebhooks = stripeWebhooksWiring(config, pool, logger);
  // Several containers can live in one process (tests, the benchmark): the suffix tells them apart.
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
  c.bind(TOKENS.Config).toConstantValue(config);
  c.bind(TOKENS.Logger).toConstantValue(logger);
  c.bind(TOKENS.Pool).toConstantValue(pool);
  c.bind(TOKENS.Clock).toConstantValue(new SystemClock());
  c.bind(TOKENS.IdGenerator).toConstantValue(new SystemIdGenerator());
  const metrics = new LedgerMetrics({
    onCollectError: (source, error) => logger.warn({ err: error, source }, 'metrics: could not read projection gauges'),
  });
  metrics.watchPool(pool);
  // Unanswered payment requests (intent first), from the completer's table at every scrape.
  metrics.watchPaymentRequests(() => readPaymentRequestBacklog(sqlExecutor(pool)));
  c.bind(TOKENS.Metrics).toConstantValue(metrics);
  c.bind(TOKENS.EventStore).toDynamicValue(() => instrumentEventStore(eventStoreFor(config, pool), metrics)).inSingletonScope();
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
  c.bind(TOKENS.RefundCommands)
    .toDynamicValue((ctx) => new RefundCommandHandlers(ctx.get(TOKENS.EventStore), ctx.get(TOKENS.PaymentProvider), ctx.get(TOKENS.Clock), ctx.get(TOKENS.IdGenerator)))
    .inSingletonScope();
  // Subscriptions (docs/architecture.md, "Subscriptions"): commands, the process manager's
  // steps, and the billing clock, which test clocks' advances and the real clock's tick share.
  c.bind(TOKENS.SubscriptionCommands)
    .toDynamicValue((ctx) => new SubscriptionCommandHandlers(ctx.get(TOKENS.EventStore), new ClockBillingTime(ctx.get(TOKENS.Clock), ctx.get(TOKENS.EventStore)), ctx.get(TOKENS.IdGenerator)))
    .inSingletonScope();
  const billingConfig: BillingStepsConfig = { afterDunning: config.BILLING_AFTER_DUNNING, retryScheduleDays: config.BILLING_RETRY_SCHEDULE_DAYS };
  let billingParts: { steps: BillingSteps; process: BillingProcess } | undefined;
  const billing = (ctx: { get: Container['get'] }) => {
    if (billingParts) return billingParts;
    const steps = new BillingSteps(
      { store: ctx.get(TOKENS.EventStore), subscriptions: ctx.get(TOKENS.SubscriptionCommands), payments: ctx.get(TOKENS.PaymentCommands), refunds: ctx.get(TOKENS.RefundCommands), ids: ctx.get(TOKENS.IdGenerator) },
      billingConfig,
    );
    return (billingParts = { steps, process: new BillingProcess(ctx.get(TOKENS.EventStore), steps, billingConfig) });
  };
  c.bind(TOKENS.BillingClock)
    .toDynamicValue((ctx) => {
      const { steps, process } = billing(ctx);
      const readModels = ctx.get(TOKENS.ReadModels);
      const projectionStore = ctx.get(TOKENS.ProjectionStore);
      const settler = new LogBillingSettler(
        ctx.get(TOKENS.EventStore),
        process,
        (position, timeoutMs) => readModels.waitForPosition(BILLING_PROJECTION, position, timeoutMs),
        new BillingProcessCheckpoint(projectionStore),
        ctx.get(TOKENS.Clock),
      );
      return new BillingClock(new SqlDueWorkSource(sqlExecutor(pool)), ctx.get(TOKENS.SubscriptionCommands), steps, settler);
    })
    .inSingletonScope();
  c.bind(TOKENS.TestClocks)
    .toDynamicValue((ctx) => {
      const clock = ctx.get(TOKENS.Clock);
      return new TestClocks(ctx.get(TOKENS.EventStore), ctx.get(TOKENS.BillingClock), ctx.get(TOKENS.IdGenerator), () => clock.now());
    })
    .inSingletonScope();
  c.bind(TOKENS.BillingQueries).toDynamicValue(() => new SqlBillingQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.BillingProcessRunner)
    .toDynamicValue((ctx) => new BillingProcessRunner(
      { eventStore: ctx.get(TOKENS.EventStore), store: ctx.get(TOKENS.ProjectionStore), process: billing(ctx).process },
      { instanceId, logger: logger.child({ component: 'billing-process' }) },
    ))
    .inSingletonScope();
  c.bind(TOKENS.BillingClockRunner)
    .toDynamicValue((ctx) => new BillingClockRunner(
      { billingClock: ctx.get(TOKENS.BillingClock), leases: ctx.get(TOKENS.ProjectionStore), clock: ctx.get(TOKENS.Clock) },
      { instanceId, tickMs: config.BILLING_TICK_MS, logger: logger.child({ component: 'billing-clock' }) },
    ))
    .inSingletonScope();
  c.bind(TOKENS.Projections).toConstantValue([paymentsProjection, refundsProjection, refundWorkProjection(), ledgerProjection, reportsProjection, activityRealtimeProjection, billingProjection, subscriptionMetricsProjection, paymentIntentsProjection, disputesProjection]);
  bindDisputes(c, config, pool, instanceId, logger);
  c.bind(TOKENS.PaymentQueries).toDynamicValue(() => new SqlPaymentQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.RefundQueries).toDynamicValue(() => new SqlRefundQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.LedgerQueries).toDynamicValue(() => new SqlLedgerQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.RevenueReports).toDynamicValue(() => new SqlRevenueReports(sqlExecutor(pool))).inSingletonScope();
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
      observer: metrics,
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
  // The activity feed (docs/architecture.md, "Projections"; src/projections/activity): its own
  // write-then-checkpoint loop, because MongoDB cannot join the projection transaction.
  c.bind(TOKENS.ActivityFeed)
    .toDynamicValue(() => (config.MONGO_URL ? new MongoActivityFeed({ url: config.MONGO_URL }) : new PostgresActivityFeed(pool)))
    .inSingletonScope();
  c.bind(TOKENS.ActivityFeedRunner)
    .toDynamicValue((ctx) => new ActivityFeedRunner(
      { eventStore: ctx.get(TOKENS.EventStore), feed: ctx.get(TOKENS.ActivityFeed), leases: ctx.get(TOKENS.ProjectionStore) },
      { instanceId, batchSize: config.PROJECTION_BATCH_SIZE, logger: logger.child({ component: 'activity-feed' }) },
    ))
    .inSingletonScope();
  // One adapter serves the port and the pruning task, which is not part of the port.
  let idempotencyStore: PostgresIdempotencyStore | undefined;
  const idempotency = (): PostgresIdempotencyStore => (idempotencyStore ??= new PostgresIdempotencyStore(sqlExecutor(pool)));
  c.bind(TOKENS.IdempotencyStore).toDynamicValue(idempotency).inSingletonScope();
  c.bind(TOKENS.ReadModels)
    .toDynamicValue((ctx): ReadModels => {
      const waiter = ctx.get(TOKENS.CheckpointWaiter);
      const statusDeps = projectionDeps(ctx);
      return {
        waitForPosition: (projection, position, timeoutMs) => waiter.waitForPosition(projection, position, timeoutMs),
        status: () => readProjectionStatuses(statusDeps),
      };
    })
    .inSingletonScope();
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
  c.bind(TOKENS.RateLimiter)
    .toDynamicValue(() => createRateLimiter(
      { store: config.RATE_LIMIT_STORE, perMinute: config.RATE_LIMIT_PER_MINUTE, unauthenticatedPerMinute: config.RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE },
      pool,
    ))
    .inSingletonScope();
  c.bind(TOKENS.ReadinessChecks)
    .toDynamicValue((ctx): readonly ReadinessCheck[] => {
      const eventStore = ctx.get(TOKENS.EventStore);
      return [
        { name: 'postgres', check: async () => { await pool.query('SELECT 1'); } },
        { name: 'event-store', check: async () => { await eventStore.headPosition(); } },
      ];
    })
    .inSingletonScope();
  // Outbound webhooks (README, "Webhooks"): built once, on first use, for the routes and the tasks.
  let webhookParts: WebhookParts | undefined;
  const webhooks = (ctx: { get: Container['get'] }): WebhookParts =>
    (webhookParts ??= buildWebhooks(
      {
        pool,
        eventStore: ctx.get(TOKENS.EventStore),
        projectionStore: ctx.get(TOKENS.ProjectionStore),
        latestInvoices: ctx.get(TOKENS.BillingQueries),
        clock: ctx.get(TOKENS.Clock),
        ids: ctx.get(TOKENS.IdGenerator),
        logger: logger.child({ component: 'webhooks' }),
      },
      {
        production: config.NODE_ENV === 'production',
        allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        concurrency: config.WEBHOOK_CONCURRENCY,
        instanceId,
        batchSize: config.PROJECTION_BATCH_SIZE,
        retentionDays: config.WEBHOOK_DELIVERY_RETENTION_DAYS,
      },
    ));
  c.bind(TOKENS.HttpServer)
    .toDynamicValue(async (ctx) => {
      const app = createHttpApp({
        authenticator: ctx.get(TOKENS.Authenticator),
        rateLimiter: await ctx.getAsync(TOKENS.RateLimiter),
        cors: { origins: config.CORS_ORIGINS },
        metricsAuth: config.METRICS_AUTH,
        production: config.NODE_ENV === 'production',
        trustProxy: config.TRUST_PROXY_HOPS,
        payments: ctx.get(TOKENS.PaymentCommands),
        refunds: ctx.get(TOKENS.RefundCommands),
        paymentQueries: ctx.get(TOKENS.PaymentQueries),
        refundQueries: ctx.get(TOKENS.RefundQueries),
        activity: ctx.get(TOKENS.ActivityFeed),
        ledgerQueries: ctx.get(TOKENS.LedgerQueries),
        readModels: ctx.get(TOKENS.ReadModels),
        revenueReports: ctx.get(TOKENS.RevenueReports),
        mrrReports: new SqlMrrReports(sqlExecutor(pool)),
        billing: { subscriptions: ctx.get(TOKENS.SubscriptionCommands), testClocks: ctx.get(TOKENS.TestClocks), queries: ctx.get(TOKENS.BillingQueries) },
        webhooks: webhooks(ctx).http,
        disputes: { queries: ctx.get(TOKENS.DisputeQueries), evidence: ctx.get(TOKENS.DisputeCommands) },
        stripeWebhooks: stripeWebhooks.http,
        idempotency: ctx.get(TOKENS.IdempotencyStore),
        readiness: ctx.get(TOKENS.ReadinessChecks),
        logger: logger.child({ component: 'http' }),
        metrics: ctx.get(TOKENS.Metrics),
        clock: ctx.get(TOKENS.Clock),
        limits: { bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES, requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS },
      });
      const server = http.createServer({ maxHeaderSize: HTTP_MAX_HEADER_BYTES }, app);
      // Slow clients cannot hold sockets forever.
      server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS + 5_000;
      server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
      server.keepAliveTimeout = HTTP_KEEP_ALIVE_TIMEOUT_MS;
      server.maxRequestsPerSocket = HTTP_MAX_REQUESTS_PER_SOCKET;
      return server;
    })
    .inSingletonScope();
  c.bind(TOKENS.Realtime)
    .toDynamicValue(async (ctx) => {
      const realtime = createRealtime(await ctx.getAsync(TOKENS.HttpServer), {
        pool,
        logger: logger.child({ component: 'realtime' }),
        retention: { retentionMs: config.REALTIME_RETENTION_HOURS * 3_600_000 },
        authenticator: ctx.get(TOKENS.Authenticator),
        clock: ctx.get(TOKENS.Clock),
        ...(config.CORS_ORIGINS.length > 0 ? { serverOptions: { cors: { origin: config.CORS_ORIGINS, credentials: false } } } : {}),
      });
      metrics.watchSocketIo(realtime.io);
      return realtime;
    })
    .inSingletonScope();
  c.bind(TOKENS.BackgroundTasks)
    .toDynamicValue(async (ctx): Promise<readonly BackgroundTask[]> => {
      const waiter = ctx.get(TOKENS.CheckpointWaiter);
      const runner = ctx.get(TOKENS.ProjectionRunner);
      const realtime = await ctx.getAsync(TOKENS.Realtime);
      metrics.watchProjections(projectionGaugeSource({ ...projectionDeps(ctx), runner, clock: ctx.get(TOKENS.Clock) }));
      const tasks: BackgroundTask[] = [
        { name: 'checkpoint-waiter', start: () => waiter.start(), stop: () => Promise.resolve(waiter.close()) },
      ];
      if (config.PROJECTIONS_ENABLED) {
        const activityRunner = ctx.get(TOKENS.ActivityFeedRunner);
        const billingProcess = ctx.get(TOKENS.BillingProcessRunner);
        const billingClock = ctx.get(TOKENS.BillingClockRunner);
        // Payments intent first: the leased completer finishes requests their commands did not.
        const intentCompleter = paymentIntentCompleterRunner(ctx, config, pool, instanceId, logger);
        tasks.push(
          { name: 'projections', start: () => runner.start(), stop: () => runner.stop() },
          refundProcessTask(ctx.get(TOKENS.EventStore), ctx.get(TOKENS.PaymentProvider), ctx.get(TOKENS.Clock), ctx.get(TOKENS.IdGenerator), pool, logger),
          { name: 'payment-intent-completer', start: () => intentCompleter.start(), stop: () => intentCompleter.stop() },
          { name: 'activity-feed', start: () => activityRunner.start(), stop: () => activityRunner.stop() },
          { name: 'billing-process', start: () => billingProcess.start(), stop: () => billingProcess.stop() },
          { name: 'billing-clock', start: () => billingClock.start(), stop: () => billingClock.stop() },
          ...webhooks(ctx).tasks({ fanout: true }),
          stripeWebhooks.task({
            eventStore: ctx.get(TOKENS.EventStore),
            provider: ctx.get(TOKENS.PaymentProvider),
            clock: ctx.get(TOKENS.Clock),
            ids: ctx.get(TOKENS.IdGenerator),
            disputes: overrides.disputeCommands ?? ctx.get(TOKENS.DisputeCommands),
          }),
        );
        // The simulated processor opens pm_card_createDispute's disputes (issue 10); Stripe's come by webhook.
        if (config.PAYMENT_PROVIDER === 'simulated') {
          const disputes = ctx.get(TOKENS.SimulatedDisputeRunner);
          tasks.push({ name: 'simulated-disputes', start: () => disputes.start(), stop: () => disputes.stop() });
        }
      }
      tasks.push(
        { name: 'realtime', start: () => realtime.start(), stop: () => realtime.close() },
        intervalTask('idempotency pruning', IDEMPOTENCY_PRUNE_INTERVAL_MS, () => idempotency().pruneExpired(), logger),
        stripeWebhooks.pruning,
        intervalTask('webhook delivery pruning', WEBHOOK_DELIVERY_PRUNE_INTERVAL_MS, () => webhooks(ctx).pruneFinished(), logger),
      );
      return tasks;
    })
    .inSingletonScope();
  return c;
}
