import type { IncomingHttpHeaders } from 'node:http';
import type { CommandContext } from '../../application/command-context.js';
import type { CreatePaymentInput, PaymentCommandResult } from '../../application/payments/payment-command-handlers.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { Clock } from '../../application/ports/clock.js';
import type { Position } from '../../application/ports/position.js';
import type { CancellationReason, PaymentStatus } from '../../domain/payment/index.js';

/*
 * What the HTTP layer needs, as small structural interfaces: the composition root passes
 * the real implementations (PaymentCommandHandlers, the payments read model, the projection
 * runner, PostgresIdempotencyStore, pino, LedgerMetrics) and tests pass whatever fits.
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
  | { readonly kind: 'in_flight' }
  /** The key was first used with another request (method, path, body). */
  | { readonly kind: 'mismatch' };

/** Satisfied by PostgresIdempotencyStore. */
export interface IdempotencyStore {
  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyBegin>;
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

/**
 * Who is calling. There is no authentication yet, so every caller is `anonymous`; when
 * bearer tokens arrive this is the one place that turns a request into an actor, which
 * both scopes idempotency keys and is recorded in every event.
 */
export type ActorResolver = (request: { readonly headers: IncomingHttpHeaders }) => string;

export const anonymousActor: ActorResolver = () => 'anonymous';

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
  readonly actorOf?: ActorResolver | undefined;
}
