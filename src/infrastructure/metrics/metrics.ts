import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionObserver } from '../../projections/observer.js';
import type { ProjectionStatusValue } from '../../projections/status.js';

export interface HttpRequestSample {
  readonly method: string;
  /** The route pattern (`/v1/payments/:id`), never the raw path: label values must stay few. */
  readonly route: string;
  readonly status: number;
  readonly durationSeconds: number;
}

/** Commands as the HTTP layer names them in the `command` label. */
export type { CommandName } from '../http/deps.js';
import type { CommandName } from '../http/deps.js';

/** One projection as the gauges show it, read at scrape time. */
export interface ProjectionGaugeSample {
  readonly projection: string;
  readonly status: ProjectionStatusValue;
  /** Events after the checkpoint (saturates where the status read stops counting). */
  readonly lagEvents: number;
  /** How long the oldest event not yet applied has been in the log; 0 when none waits. */
  readonly lagSeconds: number;
  /** Whether this instance holds the projection's lease. */
  readonly leader: boolean;
}

/** Reads every projection's gauges; called at most once per scrape. */
export type ProjectionGaugeSource = () => Promise<readonly ProjectionGaugeSample[]>;

/** The intent-first backlog as its gauges show it, read at scrape time (projections/payment-intents/payment-request-backlog.ts). */
export interface PaymentRequestGaugeSample {
  readonly pending: number;
  readonly oldestAgeSeconds: number;
}

/** Reads the payment request backlog; called at most once per scrape. */
export type PaymentRequestGaugeSource = () => Promise<PaymentRequestGaugeSample>;

/** Satisfied by pg.Pool. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Satisfied by a Socket.IO Server: the sockets of the default namespace and the rooms (topics) each is in. */
export interface SocketServerView {
  of(namespace: '/'): { readonly sockets: ReadonlyMap<string, { readonly rooms: ReadonlySet<string> }> };
}

/** Which allowance a refused request had used up (see http/deps.ts RateLimitBucket). */
export type RateLimitBucketName = 'credential' | 'unauthenticated';

/** Every status a projection can be in, so the state set always has all of them (0 or 1). */
const PROJECTION_STATUSES = ['running', 'catching_up', 'stopped', 'failed', 'rebuilding'] as const satisfies readonly ProjectionStatusValue[];

/** Within this long, one scrape's projection read serves all four projection gauges (and concurrent scrapes). */
const DEFAULT_PROJECTION_READ_REUSE_MS = 1_000;

export interface LedgerMetricsOptions {
  readonly defaultMetrics?: boolean;
  readonly prefix?: string;
  /** Told when reading projection gauges fails; the scrape then goes on without them. */
  readonly onCollectError?: (source: 'projections' | 'payment_requests', error: unknown) => void;
  /** How long one projection read (and one payment request read) is reused; default 1 s (a scrape reads once). Tests set 0. */
  readonly projectionReadReuseMs?: number;
}

/**
 * The service's Prometheus metrics, each in its own Registry so that two instances in
 * one process (tests) never collide on global names.
 *
 * Counters and histograms are pushed where things happen (a request, an append, a
 * committed batch). State (pool connections, sockets, projection status, leadership,
 * lag) is read when /metrics is scraped, from whatever `watch…` was given, so the hot
 * paths never pay for it.
 */
export class LedgerMetrics implements ProjectionObserver {
  readonly registry: Registry;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly commands: Counter<'command' | 'outcome'>;
  private readonly idempotentReplays: Counter<'command'>;
  private readonly rateLimitRefusals: Counter<'bucket'>;
  private readonly appendDuration: Histogram;
  private readonly appendConflicts: Counter;
  private readonly eventsApplied: Counter<'projection'>;
  private readonly batchDuration: Histogram<'projection'>;
  private readonly onCollectError: LedgerMetricsOptions['onCollectError'];
  private readonly projectionReadReuseMs: number;
  private pool: PoolCounts | undefined;
  private sockets: SocketServerView | undefined;
  private projections: ProjectionGaugeSource | undefined;
  private projectionRead: { readonly at: number; readonly samples: Promise<readonly ProjectionGaugeSample[] | undefined> } | undefined;
  private paymentRequests: PaymentRequestGaugeSource | undefined;
  private paymentRequestRead: { readonly at: number; readonly sample: Promise<PaymentRequestGaugeSample | undefined> } | undefined;

  constructor(options: LedgerMetricsOptions = {}) {
    const prefix = options.prefix ?? 'ledger_';
    const registers = [(this.registry = new Registry())];
    this.onCollectError = options.onCollectError;
    this.projectionReadReuseMs = options.projectionReadReuseMs ?? DEFAULT_PROJECTION_READ_REUSE_MS;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });
    this.httpDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      // Commands target p99 < 25 ms; the buckets resolve that range finely.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.commands = new Counter({
      name: `${prefix}commands_total`,
      help: 'Commands executed (payments, refunds, subscriptions, test clocks), by command and outcome (success or the error code).',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.idempotentReplays = new Counter({
      name: `${prefix}idempotent_replays_total`,
      help: 'Command responses replayed from the idempotency store instead of executing again.',
      labelNames: ['command'],
      registers,
    });
    this.rateLimitRefusals = new Counter({
      name: `${prefix}rate_limit_refusals_total`,
      help: 'Requests refused with 429, by the allowance used up: credential (per principal) or unauthenticated (failed authentications per client address).',
      labelNames: ['bucket'],
      registers,
    });
    this.appendDuration = new Histogram({
      name: `${prefix}event_store_append_duration_seconds`,
      help: 'Event-store appends, from call to answer, whatever the outcome (conflicts included).',
      // One round trip to PostgreSQL is sub-millisecond to a few ms; the tail is what matters.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.appendConflicts = new Counter({
      name: `${prefix}event_store_append_conflicts_total`,
      help: 'Appends refused because the stream was not at the expected revision (WrongExpectedVersion).',
      registers,
    });
    this.eventsApplied = new Counter({
      name: `${prefix}projection_events_applied_total`,
      help: 'Events in committed projection batches (handled or skipped by type), by projection, in this instance.',
      labelNames: ['projection'],
      registers,
    });
    this.batchDuration = new Histogram({
      name: `${prefix}projection_batch_duration_seconds`,
      help: 'Projection batches from read to commit (rows, checkpoint and realtime changes in one transaction), by projection.',
      labelNames: ['projection'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>) => void | Promise<void>): void => {
      const g: Gauge<L> = new Gauge<L>({ name: `${prefix}${name}`, help, labelNames, registers, collect: () => collect(g) });
    };
    gauge('pg_pool_connections', 'PostgreSQL pool connections: total open, idle, and in_use (checked out by a query or transaction).', ['state'], (g) => {
      const pool = this.pool;
      if (!pool) return;
      g.set({ state: 'total' }, pool.totalCount);
      g.set({ state: 'idle' }, pool.idleCount);
      g.set({ state: 'in_use' }, Math.max(0, pool.totalCount - pool.idleCount));
    });
    gauge('pg_pool_waiting', 'Queries waiting for a PostgreSQL pool connection (the pool is exhausted while this is above 0).', [], (g) => {
      if (this.pool) g.set(this.pool.waitingCount);
    });
    gauge('socketio_connections', 'Socket.IO connections open on this instance.', [], (g) => {
      if (this.sockets) g.set(this.sockets.of('/').sockets.size);
    });
    gauge('socketio_subscriptions', 'Topics followed over Socket.IO on this instance, summed over connections (one socket on two topics counts 2).', [], (g) => {
      if (!this.sockets) return;
      let topics = 0;
      // Every socket is also in the room named by its own id, which is no subscription.
      for (const socket of this.sockets.of('/').sockets.values()) topics += Math.max(0, socket.rooms.size - 1);
      g.set(topics);
    });
    const projectionGauge = <L extends string>(name: string, help: string, labelNames: readonly L[], set: (g: Gauge<L>, sample: ProjectionGaugeSample) => void): void =>
      gauge(name, help, labelNames, async (g) => {
        // A projection that is gone (or a read that failed) must not linger at its last value.
        g.reset();
        for (const sample of (await this.readProjections()) ?? []) set(g, sample);
      });
    projectionGauge('projection_lag_events', 'Events in the log after the projection\'s checkpoint (counting stops at 1,000: beyond that, watch lag_seconds).', ['projection'], (g, s) =>
      g.set({ projection: s.projection }, s.lagEvents),
    );
    projectionGauge(
      'projection_lag_seconds',
      'Age of the oldest event the projection has not applied yet (0 when caught up): how stale its read model is, growing while it is stuck.',
      ['projection'],
      (g, s) => g.set({ projection: s.projection }, s.lagSeconds),
    );
    projectionGauge('projection_status', 'The projection\'s status as every instance sees it: 1 for the current one, 0 for the others.', ['projection', 'status'], (g, s) => {
      for (const status of PROJECTION_STATUSES) g.set({ projection: s.projection, status }, status === s.status ? 1 : 0);
    });
    projectionGauge('projection_leader', '1 if this instance holds the projection\'s lease and runs it, else 0.', ['projection'], (g, s) => g.set({ projection: s.projection }, s.leader ? 1 : 0));
    const paymentRequestGauge = (name: string, help: string, value: (sample: PaymentRequestGaugeSample) => number): void =>
      gauge(name, help, [], async (g) => {
        // A gauge without labels cannot leave the scrape, and 0 would say "nothing waits":
        // unknown (nothing watched, or a read that failed and was logged through onCollectError)
        // shows NaN, neither the last value nor a false all-clear.
        const sample = await this.readPaymentRequests();
        g.set(sample ? value(sample) : Number.NaN);
      });
    paymentRequestGauge(
      'payment_requests_pending',
      'Payment requests (create, capture, cancel) recorded and not yet answered by the processor, across instances (counting stops at 10,000; NaN when the read failed).',
      (s) => s.pending,
    );
    paymentRequestGauge(
      'payment_request_oldest_age_seconds',
      'Age of the oldest unanswered payment request (0 when none waits; NaN when the read failed): growing while the processor or the intent completer is stuck.',
      (s) => s.oldestAgeSeconds,
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeHttpRequest(sample: HttpRequestSample): void {
    this.httpDuration.observe({ method: sample.method, route: sample.route, status: String(sample.status) }, sample.durationSeconds);
  }

  countCommand(command: CommandName, outcome: string): void {
    this.commands.inc({ command, outcome });
  }

  countIdempotentReplay(command: CommandName): void {
    this.idempotentReplays.inc({ command });
  }

  countRateLimitRefusal(bucket: RateLimitBucketName): void {
    this.rateLimitRefusals.inc({ bucket });
  }

  /** Starts timing an append; call the result with whether the stream was at another revision. */
  startAppend(): (outcome: { readonly conflict: boolean }) => void {
    const stop = this.appendDuration.startTimer();
    return ({ conflict }) => {
      stop();
      if (conflict) this.appendConflicts.inc();
    };
  }

  /** ProjectionObserver: times a batch and counts its events once it committed. */
  batchStarted(projection: string): (committedEvents: number) => void {
    const stop = this.batchDuration.startTimer({ projection });
    return (committedEvents) => {
      stop();
      this.eventsApplied.inc({ projection }, committedEvents);
    };
  }

  /** Reports this pool's connections at every scrape. */
  watchPool(pool: PoolCounts): void {
    this.pool = pool;
  }

  /** Reports this Socket.IO server's connections and subscriptions at every scrape. */
  watchSocketIo(io: SocketServerView): void {
    this.sockets = io;
  }

  /** Reports projection status, leadership and lag at every scrape (see projection-gauges.ts). */
  watchProjections(source: ProjectionGaugeSource): void {
    this.projections = source;
    this.projectionRead = undefined;
  }

  /** Reports the unanswered payment requests at every scrape (see payment-request-backlog.ts). */
  watchPaymentRequests(source: PaymentRequestGaugeSource): void {
    this.paymentRequests = source;
    this.paymentRequestRead = undefined;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One read serves the four projection gauges of a scrape (and scrapes that overlap). */
  private readProjections(): Promise<readonly ProjectionGaugeSample[] | undefined> {
    const source = this.projections;
    if (!source) return Promise.resolve(undefined);
    const now = Date.now();
    if (this.projectionRead && now - this.projectionRead.at < this.projectionReadReuseMs) return this.projectionRead.samples;
    const samples = source().catch((error: unknown) => {
      this.onCollectError?.('projections', error);
      return undefined;
    });
    this.projectionRead = { at: now, samples };
    return samples;
  }

  /** One read serves both payment request gauges of a scrape (and scrapes that overlap). */
  private readPaymentRequests(): Promise<PaymentRequestGaugeSample | undefined> {
    const source = this.paymentRequests;
    if (!source) return Promise.resolve(undefined);
    const now = Date.now();
    if (this.paymentRequestRead && now - this.paymentRequestRead.at < this.projectionReadReuseMs) return this.paymentRequestRead.sample;
    const sample = source().catch((error: unknown) => {
      this.onCollectError?.('payment_requests', error);
      return undefined;
    });
    this.paymentRequestRead = { at: now, sample };
    return sample;
  }
}

export const createMetrics = (options?: LedgerMetricsOptions): LedgerMetrics => new LedgerMetrics(options);
