import type { ServiceIdentifier } from 'inversify';
import type pg from 'pg';
import type { AuditLog } from '../../application/audit/audit-log.js';
import type { Authenticator } from '../../application/auth/authenticator.js';
import type { PaymentCommandHandlers } from '../../application/payments/payment-command-handlers.js';
import type { PaymentQueries } from '../../application/ports/payment-queries.js';
import type { Clock } from '../../application/ports/clock.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import type { PaymentProvider } from '../../application/ports/payment-provider.js';
import type { CheckpointWaiter } from '../../projections/checkpoint-waiter.js';
import type { Projection } from '../../projections/projection.js';
import type { ProjectionRebuilder } from '../../projections/rebuild.js';
import type { ProjectionRunner } from '../../projections/runner.js';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { LedgerMetrics } from '../metrics/metrics.js';
import type { PostgresProjectionProgressFeed } from '../postgres/projections/progress-feed.js';
import type { PostgresProjectionStore } from '../postgres/projections/postgres-projection-store.js';
import type { PostgresIdempotencyStore } from '../postgres/idempotency/postgres-idempotency-store.js';

const token = <T>(name: string): ServiceIdentifier<T> => Symbol.for(`ledger.${name}`);

/** Every binding in the container, typed: `container.get(TOKENS.EventStore)` is an EventStore. */
export const TOKENS = {
  Config: token<Config>('Config'),
  Logger: token<Logger>('Logger'),
  Pool: token<pg.Pool>('Pool'),
  Clock: token<Clock>('Clock'),
  IdGenerator: token<IdGenerator>('IdGenerator'),
  EventStore: token<EventStore>('EventStore'),
  PaymentProvider: token<PaymentProvider>('PaymentProvider'),
  PaymentCommands: token<PaymentCommandHandlers>('PaymentCommands'),
  PaymentQueries: token<PaymentQueries>('PaymentQueries'),
  Projections: token<readonly Projection[]>('Projections'),
  ProjectionStore: token<PostgresProjectionStore>('ProjectionStore'),
  ProgressFeed: token<PostgresProjectionProgressFeed>('ProgressFeed'),
  ProjectionRunner: token<ProjectionRunner>('ProjectionRunner'),
  ProjectionRebuilder: token<ProjectionRebuilder>('ProjectionRebuilder'),
  CheckpointWaiter: token<CheckpointWaiter>('CheckpointWaiter'),
  IdempotencyStore: token<PostgresIdempotencyStore>('IdempotencyStore'),
  Metrics: token<LedgerMetrics>('Metrics'),
  AuditLog: token<AuditLog>('AuditLog'),
  ApiKeys: token<ApiKeys>('ApiKeys'),
  Authenticator: token<Authenticator>('Authenticator'),
} as const;
