import type { ActivityQueries } from '../../application/ports/activity-feed.js';
import type { Authenticator } from '../../application/auth/authenticator.js';
import type { Clock } from '../../application/ports/clock.js';
import type { IdempotencyStore } from '../../application/ports/idempotency-store.js';
import type { LedgerQueries } from '../../application/ports/ledger-queries.js';
import type { PaymentCommands } from '../../application/ports/payment-commands.js';
import type { PaymentQueries } from '../../application/ports/payment-queries.js';
import type { ReadModels } from '../../application/ports/read-models.js';
import type { RefundQueries } from '../../application/ports/refund-queries.js';
import type { RefundCommands } from '../../application/ports/refund-commands.js';
import type { DisputeQueries } from '../../application/ports/dispute-queries.js';
import type { DisputeEvidenceCommands } from '../../application/disputes/dispute-command-handlers.js';
import type { RevenueReports } from '../../application/ports/revenue-reports.js';
import type { MrrReports } from '../../application/ports/mrr-reports.js';
import type { BillingQueries } from '../../application/ports/billing-queries.js';
import type { TestClocks } from '../../application/subscriptions/billing-clock.js';
import type { SubscriptionCommandHandlers } from '../../application/subscriptions/subscription-command-handlers.js';
import type { WebhookHttpDeps } from './routes/webhook-endpoints.js';
import type { ProviderInbox } from '../../application/ports/provider-inbox.js';
import type { StripeWebhookVerifier } from '../stripe/stripe-webhook-verifier.js';

/*
 * What createHttpApp is given. The application's ports (commands, queries, read models,
 * idempotency) come from src/application/ports; what is declared here is the HTTP layer's
 * own plumbing (limits, CORS, rate limits, readiness, logger and metrics shapes), kept
 * structural so the composition root passes pino, LedgerMetrics and FlexibleRateLimiter
 * as they are and tests pass whatever fits.
 */

export interface ReadinessCheck {
  readonly name: string;
  /** Rejects when the dependency is not usable. The signal aborts when the check timed out. */
  check(signal: AbortSignal): Promise<void>;
}

/** Satisfied by a pino Logger. */
export interface HttpLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Commands as the `command` metric label names them. */
export type CommandName =
  | 'create'
  | 'capture'
  | 'cancel'
  | 'refund'
  | 'subscription_create'
  | 'subscription_update'
  | 'subscription_cancel'
  | 'subscription_pause'
  | 'subscription_resume'
  | 'subscription_change_price'
  | 'test_clock_create'
  | 'test_clock_advance'
  | 'dispute_evidence';

/** Satisfied by LedgerMetrics. */
export interface HttpMetrics {
  readonly contentType: string;
  observeHttpRequest(sample: { method: string; route: string; status: number; durationSeconds: number }): void;
  countCommand(command: CommandName, outcome: string): void;
  countIdempotentReplay(command: CommandName): void;
  countRateLimitRefusal(bucket: RateLimitBucket): void;
  render(): Promise<string>;
}

export interface HttpLimits {
  /** Largest request body accepted; larger answers 413. */
  readonly bodyLimitBytes: number;
  /** A request still unanswered after this gets 503; the work behind it is not interrupted. */
  readonly requestTimeoutMs: number;
  /** Longest a query waits for `?minPosition=`; capped at 5 s whatever is configured. */
  readonly minPositionWaitMs: number;
  /** Each readiness check gets this long. */
  readonly readinessTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  bodyLimitBytes: 64 * 1024,
  requestTimeoutMs: 10_000,
  minPositionWaitMs: 5_000,
  readinessTimeoutMs: 2_000,
});

/** Which allowance a request draws on: its credential's, or (failed authentication) its client address's. */
export type RateLimitBucket = 'credential' | 'unauthenticated';

/** The state of one allowance after (or, for peek, without) counting a request. */
export interface RateLimitState {
  /** False when the request must be refused with 429. */
  readonly allowed: boolean;
  /** Requests allowed per window. */
  readonly limit: number;
  /** Requests left in the current window. */
  readonly remaining: number;
  /** Seconds until the window resets (at least 1 while anything is counted). */
  readonly resetSeconds: number;
  /** Seconds in one window, for RateLimit-Policy. */
  readonly windowSeconds: number;
}

/**
 * Per-key request allowances. Satisfied by FlexibleRateLimiter (rate-limit.ts): in memory
 * (one instance) or in PostgreSQL (shared by every instance).
 */
export interface RateLimiter {
  /** Counts one request against `key`. */
  consume(bucket: RateLimitBucket, key: string): Promise<RateLimitState>;
  /** Whether `key` still has room, without counting anything. */
  peek(bucket: RateLimitBucket, key: string): Promise<RateLimitState>;
}

export interface CorsOptions {
  /**
   * Exact origins (`https://app.example.com`, scheme, host and port, no path) whose
   * browsers may call the API. Empty: no cross-origin access at all.
   */
  readonly origins: readonly string[];
}

export interface BillingHttpDeps {
  readonly subscriptions: Pick<SubscriptionCommandHandlers, 'create' | 'update' | 'cancel' | 'pause' | 'resume' | 'changePrice'>;
  readonly testClocks: Pick<TestClocks, 'create' | 'advance' | 'get'>;
  readonly queries: BillingQueries;
}

export interface DisputeHttpDeps {
  readonly queries: DisputeQueries;
  readonly evidence: DisputeEvidenceCommands;
}

/** POST /v1/webhooks/stripe and the admin inbox (routes/stripe-webhooks.ts, routes/webhook-inbox.ts). */
export interface StripeWebhookHttpDeps {
  /** Null without STRIPE_WEBHOOK_SECRET: the endpoint then answers 503 webhooks_not_configured. */
  readonly verifier: Pick<StripeWebhookVerifier, 'verify'> | null;
  readonly inbox: Pick<ProviderInbox, 'record' | 'list' | 'get' | 'retry'>;
  /** Tells this instance's inbox processor to look now (an event was recorded, or a retry asked for). */
  readonly wake: () => void;
}

export interface HttpDeps {
  /** Stripe webhooks and their inbox; absent, the webhook endpoint answers 503 and /v1/admin/webhooks is not served. */
  readonly stripeWebhooks?: StripeWebhookHttpDeps | undefined;
  /** The activity feed; without it GET /v1/customers/:id/activity is not served (tests of other routes). */
  readonly activity?: ActivityQueries | undefined;
  readonly payments: PaymentCommands;
  readonly refunds: RefundCommands;
  readonly paymentQueries: PaymentQueries;
  readonly refundQueries: RefundQueries;
  /** Disputes (issue 10); without them /v1/disputes is not served and payments show no disputes (suites of other routes). */
  readonly disputes?: DisputeHttpDeps | undefined;
  /** The double-entry ledger read model (GET /v1/ledger/…). */
  readonly ledgerQueries: LedgerQueries;
  readonly readModels: ReadModels;
  readonly revenueReports: RevenueReports;
  /** The subscription metrics read model (GET /v1/reports/mrr…). */
  readonly mrrReports: MrrReports;
  /**
   * Subscriptions, invoices and test clocks (docs/architecture.md, "Subscriptions"). Without
   * them /v1/subscriptions, /v1/invoices and /v1/test-clocks are not served (suites of other routes).
   */
  readonly billing?: BillingHttpDeps | undefined;
  /** Outbound webhooks' endpoints (README, "Webhooks"); without them /v1/webhook-endpoints is not served. */
  readonly webhooks?: WebhookHttpDeps | undefined;
  readonly idempotency: IdempotencyStore;
  readonly readiness: readonly ReadinessCheck[];
  readonly logger: HttpLogger;
  readonly metrics: HttpMetrics;
  readonly clock: Clock;
  readonly limits?: Partial<HttpLimits> | undefined;
  /**
   * Turns `Authorization: Bearer <token>` into a Principal. Every /v1 route (and /metrics
   * when `metricsAuth` is `admin`) answers 401 without one.
   */
  readonly authenticator: Authenticator;
  /** Allowances per credential, and per client address for failed authentications. */
  readonly rateLimiter: RateLimiter;
  readonly cors: CorsOptions;
  /** `admin`: GET /metrics needs an admin token like /v1/admin; `none`: open (keep it off the public network). */
  readonly metricsAuth: 'none' | 'admin';
  /** Production adds Strict-Transport-Security (the service is served over TLS there). */
  readonly production: boolean;
  /**
   * Express's `trust proxy`: which hops' X-Forwarded-For to believe when finding the client
   * address that unauthenticated requests are limited by. Default false (the socket's
   * peer); behind one load balancer, 1.
   */
  readonly trustProxy?: boolean | number | string | undefined;
}
