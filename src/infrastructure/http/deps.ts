import type { Authenticator } from '../../application/auth/authenticator.js';
import type { CommandContext } from '../../application/command-context.js';
import type { CreatePaymentInput, PaymentCommandResult } from '../../application/payments/payment-command-handlers.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { Clock } from '../../application/ports/clock.js';
import type { Position } from '../../application/ports/position.js';
import type { CancellationReason, PaymentStatus } from '../../domain/payment/index.js';

/*
 * What the HTTP layer needs, as small structural interfaces: the composition root passes
 * the real implementations (PaymentCommandHandlers, the payments read model, the projection
 * runner, PostgresIdempotencyStore, pino, LedgerMetrics, the BearerAuthenticator, a
 * FlexibleRateLimiter from rate-limit.ts) and tests pass whatever fits.
 */

/** Satisfied by PaymentCommandHandlers. */
export interface PaymentCommands {
  create(input: CreatePaymentInput, ctx: CommandContext): Promise<PaymentCommandResult>;
  capture(paymentId: string, amount: number | undefined, ctx: CommandContext): Promise<PaymentCommandResult>;
  cancel(paymentId: string, reason: CancellationReason | null, ctx: CommandContext): Promise<PaymentCommandResult>;
}

export interface PaymentListQuery {
  readonly customerId?: string | undefined;
  readonly status?: PaymentStatus | undefined;
  /** 1..100, already validated. */
  readonly limit: number;
  /** Opaque, from a previous page's nextCursor. */
  readonly cursor?: string | undefined;
}

export interface PaymentPage {
  readonly data: readonly PaymentView[];
  readonly nextCursor: string | null;
}

export type PaymentListResult =
  | { readonly ok: true; readonly value: PaymentPage }
  | { readonly ok: false; readonly error: { readonly code: 'invalid_cursor' } };

/** The payments read model. */
export interface PaymentQueries {
  get(id: string): Promise<PaymentView | undefined>;
  list(query: PaymentListQuery): Promise<PaymentListResult>;
}

/** Matches the projection runner's statuses (src/projections/status.ts), so its rows pass through unchanged. */
export type ProjectionState = 'running' | 'catching_up' | 'stopped' | 'failed' | 'rebuilding' | 'needs_rebuild';

/** One projection as operators see it in GET /v1/admin/projections. */
export interface ProjectionStatusView {
  readonly name: string;
  readonly version: number;
  readonly status: ProjectionState;
  /** formatPosition of the last event applied; null before the first. */
  readonly checkpoint: string | null;
  /** Events between the checkpoint and the head of the log; null when unknown. */
  readonly lag: number | null;
  /** Why a failed projection stopped. */
  readonly error: string | null;
  /** formatPosition of the event it stopped at. */
  readonly failedPosition: string | null;
  /** ISO 8601 of the last checkpoint or status change; null before the projection first ran. */
  readonly updatedAt: string | null;
}

/** The projection runner, as queries see it. */
export interface ReadModels {
  /** Resolves true once `projection` has applied everything up to `position`, false after `timeoutMs`. */
  waitForPosition(projection: string, position: Position, timeoutMs: number): Promise<boolean>;
  status(): Promise<readonly ProjectionStatusView[]>;
}

/** Idempotency records are per caller: two actors may use the same key for different things. */
export interface IdempotencyScope {
  readonly actor: string;
  readonly key: string;
}

/** The first response to a keyed command, kept so a retry gets exactly the same bytes. */
export interface StoredResponse {
  readonly status: number;
  /** Lower-case names; only the headers that belong to the outcome (content-type, etag, ledger-position, location). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type IdempotencyBegin =
  /** This request owns the key until it completes, releases, or the lease runs out. */
  | { readonly kind: 'started'; readonly firstSeenAt: Date; readonly lease: string }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** Another request holds the key; its lease lapses in `leaseLeftMs` (by the store's clock) unless renewed. */
  | { readonly kind: 'in_flight'; readonly leaseLeftMs: number }
  /** The key was first used with another request (method, path, body). */
  | { readonly kind: 'mismatch' }
  /** The record kept changing under the claim (bounded retries exhausted); retry shortly. */
  | { readonly kind: 'contended' };

/** Satisfied by PostgresIdempotencyStore. */
export interface IdempotencyStore {
  /** How often the holder of a started key must renew its lease to keep it while it runs. */
  readonly renewEveryMs: number;
  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyBegin>;
  /** Extends a held lease by its full length; false when it was lost (lapsed and taken over, or finished). */
  renew(scope: IdempotencyScope, lease: string): Promise<boolean>;
  /** Records the response; a no-op when the lease was lost to a retry in the meantime. */
  complete(scope: IdempotencyScope, lease: string, response: StoredResponse): Promise<void>;
  /** Gives the key back without a response (a 5xx), keeping its first-seen time so a retry derives the same ids. */
  release(scope: IdempotencyScope, lease: string): Promise<void>;
}

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

/** Satisfied by LedgerMetrics. */
export interface HttpMetrics {
  readonly contentType: string;
  observeHttpRequest(sample: { method: string; route: string; status: number; durationSeconds: number }): void;
  countCommand(command: 'create' | 'capture' | 'cancel', outcome: string): void;
  countIdempotentReplay(command: 'create' | 'capture' | 'cancel'): void;
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

export interface HttpDeps {
  readonly payments: PaymentCommands;
  readonly paymentQueries: PaymentQueries;
  readonly readModels: ReadModels;
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
