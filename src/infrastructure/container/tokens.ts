import type { DisputeCommandHandlers } from '../../application/disputes/dispute-command-handlers.js';
import type { DisputeQueries } from '../../application/ports/dispute-queries.js';
import type { SimulatedDisputeRunner } from '../simulated-provider/simulated-dispute-runner.js';
import type http from 'node:http';
import type { ServiceIdentifier } from 'inversify';
import type pg from 'pg';
import type { ActivityFeedStore } from '../../application/ports/activity-feed.js';
import type { AuditLog } from '../../application/audit/audit-log.js';
import type { Authenticator } from '../../application/auth/authenticator.js';
import type { Clock } from '../../application/ports/clock.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import type { IdempotencyStore } from '../../application/ports/idempotency-store.js';
import type { LedgerQueries } from '../../application/ports/ledger-queries.js';
import type { PaymentCommands } from '../../application/ports/payment-commands.js';
import type { RefundCommands } from '../../application/ports/refund-commands.js';
import type { PaymentProvider } from '../../application/ports/payment-provider.js';
import type { PaymentQueries } from '../../application/ports/payment-queries.js';
import type { ProjectionProgressFeed, ProjectionStore } from '../../application/ports/projection-store.js';
import type { ReadModels } from '../../application/ports/read-models.js';
import type { RefundQueries } from '../../application/ports/refund-queries.js';
import type { ActivityFeedRunner } from '../../projections/activity/activity-feed-runner.js';
import type { RevenueReports } from '../../application/ports/revenue-reports.js';
import type { BillingQueries } from '../../application/ports/billing-queries.js';
import type { BillingClock, TestClocks } from '../../application/subscriptions/billing-clock.js';
import type { SubscriptionCommandHandlers } from '../../application/subscriptions/subscription-command-handlers.js';
import type { BillingClockRunner } from '../../projections/billing/billing-clock-runner.js';
import type { BillingProcessRunner } from '../../projections/billing/billing-process-runner.js';
import type { CheckpointWaiter } from '../../projections/checkpoint-waiter.js';
import type { Projection } from '../../projections/projection.js';
import type { ProjectionRebuilder } from '../../projections/rebuild.js';
import type { ProjectionRunner } from '../../projections/runner.js';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Config } from '../config/config.js';
import type { RateLimiter, ReadinessCheck } from '../http/deps.js';
import type { Logger } from '../logging/logger.js';
import type { LedgerMetrics } from '../metrics/metrics.js';
import type { RealtimeHandle } from '../realtime/index.js';
import type { BackgroundTask, Closeable } from './lifecycle.js';

/** What the container holds, by name. Ports are typed as ports, never as the adapter behind them. */
interface Bindings {
  // Given by the caller of buildContainer.
  Config: Config;
  Logger: Logger;
  Pool: pg.Pool;

  // Application ports; config chooses the adapters.
  Clock: Clock;
  IdGenerator: IdGenerator;
  EventStore: EventStore;
  PaymentProvider: PaymentProvider;
  PaymentQueries: PaymentQueries;
  RefundQueries: RefundQueries;
  LedgerQueries: LedgerQueries;
  /** The service and the CLI close it (it holds the lease connections). */
  ProjectionStore: ProjectionStore & Closeable;
  ProgressFeed: ProjectionProgressFeed;
  IdempotencyStore: IdempotencyStore;
  ReadModels: ReadModels;
  /** MongoDB when MONGO_URL is set, else PostgreSQL JSONB. The service prepares it at start and closes it at stop. */
  ActivityFeed: ActivityFeedStore;
  RevenueReports: RevenueReports;
  BillingQueries: BillingQueries;

  // Application services.
  PaymentCommands: PaymentCommands;
  RefundCommands: RefundCommands;
  SubscriptionCommands: SubscriptionCommandHandlers;
  /** The billing clock: the real clock's tick and test clocks' advances run through it. */
  BillingClock: BillingClock;
  TestClocks: TestClocks;
  AuditLog: AuditLog;
  Authenticator: Authenticator;

  // Projections.
  Projections: readonly Projection[];
  ProjectionRunner: ProjectionRunner;
  ProjectionRebuilder: ProjectionRebuilder;
  CheckpointWaiter: CheckpointWaiter;
  ActivityFeedRunner: ActivityFeedRunner;
  BillingProcessRunner: BillingProcessRunner;
  BillingClockRunner: BillingClockRunner;

  // Disputes (issue 10): the inbound sync both paths use (Stripe webhooks, the simulated
  // processor), its queries, and the simulated processor's reaction to captures.
  DisputeCommands: DisputeCommandHandlers;
  DisputeQueries: DisputeQueries;
  SimulatedDisputeRunner: SimulatedDisputeRunner;

  // The service's own parts.
  Metrics: LedgerMetrics;
  ApiKeys: ApiKeys;
  /** Async: the PostgreSQL store creates its table first (getAsync). */
  RateLimiter: RateLimiter;
  ReadinessChecks: readonly ReadinessCheck[];
  /** The API and Socket.IO on one server, not listening yet (getAsync). */
  HttpServer: http.Server;
  /** Attached to HttpServer; its tailer and pruner are among the BackgroundTasks. */
  Realtime: RealtimeHandle;
  /** In start order; the service starts them once the port is bound and stops them in reverse. */
  BackgroundTasks: readonly BackgroundTask[];
}

export type Tokens = { readonly [K in keyof Bindings]: ServiceIdentifier<Bindings[K]> };

const NAMES = [
  'Config', 'Logger', 'Pool',
  'Clock', 'IdGenerator', 'EventStore', 'PaymentProvider', 'PaymentQueries', 'RefundQueries', 'LedgerQueries', 'ProjectionStore', 'ProgressFeed', 'IdempotencyStore', 'ReadModels', 'ActivityFeed',
  'RevenueReports', 'BillingQueries',
  'PaymentCommands', 'RefundCommands', 'SubscriptionCommands', 'BillingClock', 'TestClocks', 'AuditLog', 'Authenticator',
  'Projections', 'ProjectionRunner', 'ProjectionRebuilder', 'CheckpointWaiter', 'ActivityFeedRunner', 'BillingProcessRunner', 'BillingClockRunner',
  'DisputeCommands', 'DisputeQueries', 'SimulatedDisputeRunner',
  'Metrics', 'ApiKeys', 'RateLimiter', 'ReadinessChecks', 'HttpServer', 'Realtime', 'BackgroundTasks',
] as const satisfies readonly (keyof Bindings)[];

// A binding added to Bindings but not to NAMES would be a token that is undefined at run time.
type Unnamed = Exclude<keyof Bindings, (typeof NAMES)[number]>;
const everyBindingNamed: [Unnamed] extends [never] ? true : Unnamed = true;
void everyBindingNamed;

/** Every binding in the container, typed: `container.get(TOKENS.EventStore)` is an EventStore. */
export const TOKENS: Tokens = Object.freeze(Object.fromEntries(NAMES.map((name) => [name, Symbol.for(`ledger.${name}`)])) as Tokens);
