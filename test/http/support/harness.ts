import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { PaymentCommandHandlers } from '../../../src/application/payments/payment-command-handlers.js';
import { RefundCommandHandlers } from '../../../src/application/refunds/refund-command-handlers.js';
import type { EventStore } from '../../../src/application/ports/event-store.js';
import type { Authenticator } from '../../../src/application/auth/authenticator.js';
import { createHttpApp } from '../../../src/infrastructure/http/app.js';
import type { PaymentView } from '../../../src/application/payments/payment-view.js';
import type { PaymentCommands } from '../../../src/application/ports/payment-commands.js';
import type { PaymentPage } from '../../../src/application/ports/payment-queries.js';
import type { ReadModels } from '../../../src/application/ports/read-models.js';
import type { HttpDeps, HttpLimits, RateLimiter, ReadinessCheck } from '../../../src/infrastructure/http/deps.js';
import type { IdempotencyStore } from '../../../src/application/ports/idempotency-store.js';
import type { RevenueReports } from '../../../src/application/ports/revenue-reports.js';
import { inMemoryRateLimiter } from '../../../src/infrastructure/http/rate-limit.js';
import type { ProblemDocument } from '../../../src/infrastructure/http/problem.js';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';
import { createMetrics } from '../../../src/infrastructure/metrics/metrics.js';
import { PostgresEventStore } from '../../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../../src/infrastructure/postgres/event-store/schema.js';
import { PostgresIdempotencyStore } from '../../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
import type { IdempotencyStoreOptions } from '../../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
import { idempotencyMigrations } from '../../../src/infrastructure/postgres/idempotency/schema.js';
import { migrate } from '../../../src/infrastructure/postgres/migrator.js';
import { SystemClock } from '../../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../../src/infrastructure/system/id-generator.js';
import { sqlExecutor } from '../../../src/infrastructure/postgres/sql-executor.js';
import { projectionSchema } from '../../../src/projections/projection.js';
import { SqlRefundQueries } from '../../../src/projections/refunds/refund-queries.js';
import { refundsProjection } from '../../../src/projections/refunds/refunds-projection.js';
import { SqlLedgerQueries } from '../../../src/projections/ledger/ledger-queries.js';
import { SqlRevenueReports } from '../../../src/projections/reports/revenue-queries.js';
import { SqlMrrReports } from '../../../src/projections/subscription-metrics/mrr-queries.js';
import type { TestDatabase } from '../../support/pg.js';
import { createTestDatabase } from '../../support/pg.js';
import type { TokenSpec } from './auth.js';
import { mintToken, testAuthenticator } from './auth.js';
import { GatedProvider } from './gated-provider.js';
import { StreamReadModel } from './stream-read-model.js';

export interface HarnessOptions {
  readonly limits?: Partial<HttpLimits>;
  readonly idempotency?: Partial<IdempotencyStoreOptions>;
  readonly readiness?: readonly ReadinessCheck[];
  /** Wraps the real idempotency store, e.g. to make one call fail. */
  readonly wrapIdempotency?: (store: IdempotencyStore) => IdempotencyStore;
  /** Wraps the read models the queries wait on, e.g. to record which projection a query waits for. */
  readonly wrapReadModels?: (readModels: ReadModels) => ReadModels;
  /** Replaces the real revenue report queries, e.g. with one that fails half-way. */
  readonly revenueReports?: RevenueReports;
  /** Wraps the real command handlers, e.g. to make one throw. */
  readonly wrapCommands?: (commands: PaymentCommands) => PaymentCommands;
  /** Default: the real BearerAuthenticator over HS256 JWTs signed with TEST_JWT_SECRET. */
  readonly authenticator?: Authenticator;
  /** Default: in memory, with allowances no test reaches by accident. */
  readonly rateLimiter?: (db: TestDatabase) => RateLimiter | Promise<RateLimiter>;
  readonly corsOrigins?: readonly string[];
  readonly metricsAuth?: 'none' | 'admin';
  readonly production?: boolean;
  readonly trustProxy?: HttpDeps['trustProxy'];
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly bytes: Uint8Array;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
  /** The body as a payment / a problem / a page: casts for assertions, nothing checked. */
  readonly payment: PaymentView;
  readonly problem: ProblemDocument;
  readonly page: PaymentPage;
}

export interface RequestOptions {
  /** Serialised as JSON with Content-Type application/json unless `rawBody` is given. */
  readonly body?: unknown;
  readonly rawBody?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /**
   * The bearer token to send; null sends no Authorization header. Default: an admin token.
   * An `authorization` entry in `headers` wins over both.
   */
  readonly token?: string | null;
}

export interface Harness {
  readonly baseUrl: string;
  readonly db: TestDatabase;
  readonly store: EventStore;
  readonly provider: GatedProvider;
  readonly readModel: StreamReadModel;
  readonly idempotency: PostgresIdempotencyStore;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** The admin token requests carry unless told otherwise. */
  readonly adminToken: string;
  /** Mints a token the app accepts (or, with another secret or a past expiry, refuses). */
  token(spec: TokenSpec): Promise<string>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The real Express app on an ephemeral port, over a fresh PostgreSQL database: the real
 * command handlers, PostgreSQL event store, idempotency store, logger and metrics; the
 * read model is the event store itself (see StreamReadModel), so these suites test the
 * HTTP layer and not the projection runner.
 */
export async function startHarness(label: string, options: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDatabase(label);
  await migrate(db.pool, [...eventStoreMigrations, ...idempotencyMigrations]);
  await db.pool.query(`CREATE SCHEMA ${projectionSchema(refundsProjection.name)}; SET search_path TO ${projectionSchema(refundsProjection.name)}; ${refundsProjection.schemaSql} RESET search_path;`);
  const store: EventStore = new PostgresEventStore(db.pool);
  const provider = new GatedProvider();
  const readModel = new StreamReadModel(store, db.pool);
  const idempotency = new PostgresIdempotencyStore(db.pool, options.idempotency);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const commands = new PaymentCommandHandlers(store, provider, new SystemClock(), new SystemIdGenerator());
  const deps: HttpDeps = {
    payments: options.wrapCommands ? options.wrapCommands(commands) : commands,
    refunds: new RefundCommandHandlers(store, provider, new SystemClock(), new SystemIdGenerator()),
    paymentQueries: readModel,
    // An empty refunds read model: the refund suites write refunds through the whole service, where they are projected.
    refundQueries: new SqlRefundQueries(sqlExecutor(db.pool)),
    ledgerQueries: new SqlLedgerQueries(sqlExecutor(db.pool)),
    readModels: options.wrapReadModels ? options.wrapReadModels(readModel) : readModel,
    // The real queries over the harness database; a suite that reads reports creates rm_reports (test/http/reports.int.test.ts).
    revenueReports: options.revenueReports ?? new SqlRevenueReports(sqlExecutor(db.pool)),
    // Likewise over rm_subscription_metrics (test/http/mrr-reports.int.test.ts creates it).
    mrrReports: new SqlMrrReports(sqlExecutor(db.pool)),
    idempotency: options.wrapIdempotency ? options.wrapIdempotency(idempotency) : idempotency,
    readiness: options.readiness ?? [{ name: 'postgres', check: async () => void (await db.pool.query('SELECT 1')) }],
    logger,
    metrics: createMetrics(),
    clock: new SystemClock(),
    limits: options.limits,
    authenticator: options.authenticator ?? testAuthenticator(),
    rateLimiter: options.rateLimiter
      ? await options.rateLimiter(db)
      : inMemoryRateLimiter({ credential: { points: 1_000_000, durationSeconds: 60 }, unauthenticated: { points: 1_000_000, durationSeconds: 60 } }),
    cors: { origins: options.corsOrigins ?? [] },
    metricsAuth: options.metricsAuth ?? 'none',
    production: options.production ?? false,
    trustProxy: options.trustProxy,
  };
  const adminToken = await mintToken({ scopes: ['admin'], sub: 'test-admin' });
  const app = createHttpApp(deps);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    db,
    store,
    provider,
    readModel,
    idempotency,
    logs,
    adminToken,
    token: mintToken,
    async request(method, path, requestOptions = {}) {
      const token = requestOptions.token === undefined ? adminToken : requestOptions.token;
      const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(requestOptions.headers ?? {}) };
      let body: string | Uint8Array | undefined;
      if (requestOptions.rawBody !== undefined) body = requestOptions.rawBody;
      else if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(baseUrl + path, { method, headers, body });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const text = Buffer.from(bytes).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return {
        status: res.status,
        headers: res.headers,
        text,
        bytes,
        json,
        payment: json as PaymentView,
        problem: json as ProblemDocument,
        page: json as PaymentPage,
      };
    },
    async countEvents() {
      return Number((await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]!.n);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await db.drop();
    },
  };
}

/** A valid create body; override what the test is about. */
export const createBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  customerId: 'cus_42',
  amount: 1999,
  currency: 'USD',
  paymentMethod: 'pm_card_visa',
  ...overrides,
});
