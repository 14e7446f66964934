import type pg from 'pg';
import { CHANGES_CHANNEL } from '../postgres/realtime/schema.js';
import { readAfter, readStartPoint, type FeedChange } from './change-feed-sql.js';
import { advance, type GapPolicy, type Witness } from './feed-cursor.js';
import { backoff, sleep, WakeSignal } from '../../application/support/timing.js';
import { dedicatedClient, PgNotificationListener } from '../postgres/notifications/pg-notification-listener.js';
import { errorFields, type RealtimeLogger } from './logger.js';

export interface ChangeFeedTailerOptions {
  readonly pool: pg.Pool;
  /** Called for each change, in id order, synchronously; must not throw (it is logged if it does). */
  readonly onChange: (change: FeedChange) => void;
  readonly logger: RealtimeLogger;
  /** Rows per read. */
  readonly batchSize?: number;
  /** The fallback when notifications are lost or the LISTEN connection is down. */
  readonly pollIntervalMs?: number;
  /** How soon to look again while a hole holds delivery back. */
  readonly gapRecheckMs?: number;
  readonly gap?: Partial<GapPolicy>;
  /** How many recent ids to check for in-flight holes at start-up. */
  readonly startWindow?: number;
  readonly listenApplicationName?: string;
}

export const TAILER_DEFAULTS = {
  batchSize: 500,
  pollIntervalMs: 1_000,
  gapRecheckMs: 20,
  gap: { graceMs: 100, maxWaitMs: 30_000 },
  startWindow: 1_000,
} as const;

/** Retries of a failed read: the tailer runs until stopped, so these go on, spaced out. */
const READ_RETRY = { minMs: 200, maxMs: 10_000 } as const;

/**
 * Follows `realtime_changes` for this process and hands each new row to `onChange` in id
 * order (= commit order = position order for a topic fed by one projection). One per
 * process: every Socket.IO server instance tails the table itself, so instances need no
 * broker between them. Live only: it starts at the newest row; history is served per
 * subscriber (see readBacklog).
 */
export class ChangeFeedTailer {
  readonly #options: ChangeFeedTailerOptions;
  readonly #policy: GapPolicy;
  readonly #abort = new AbortController();
  readonly #listener: PgNotificationListener;
  readonly #wakeups = new WakeSignal();
  #lastId = 0n;
  #witness: Witness | undefined;
  #isReady = false;
  #markReady: () => void = () => undefined;
  readonly #ready: Promise<void>;
  #running: Promise<void> | undefined;
  #waiters = new Set<DeliveryWaiter>();

  constructor(options: ChangeFeedTailerOptions) {
    this.#options = options;
    this.#policy = { ...TAILER_DEFAULTS.gap, ...options.gap };
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    this.#listener = new PgNotificationListener({
      createClient: dedicatedClient(options.pool, options.listenApplicationName ?? 'ledger-realtime-listener'),
      channels: [CHANGES_CHANNEL],
      onNotification: () => this.wake(),
      // Changes committed while we were not listening announced themselves to nobody.
      onReconnect: () => this.wake(),
      onConnectionLost: ({ attempt, retryInMs, error }) =>
        options.logger.warn({ channel: CHANGES_CHANNEL, attempt, retryInMs, ...errorFields(error) }, 'realtime: LISTEN connection lost; reconnecting'),
    });
  }

  /** Resolves once the starting point is known (retrying while the database is down). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get isReady(): boolean {
    return this.#isReady;
  }

  /**
   * Every change with an id at or below this has been handed to onChange (or proven not to
   * exist), every change above it will be. Read it synchronously with whatever you do
   * about live changes, and the two cannot overlap or leave a gap.
   */
  get lastDeliveredId(): bigint {
    return this.#lastId;
  }

  get listening(): boolean {
    return this.#listener.listening;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * Resolves true once every change up to `id` has been handed out, false after
   * `timeoutMs` or on stop.
   */
  whenDelivered(id: bigint, timeoutMs: number): Promise<boolean> {
    if (this.#lastId >= id) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: DeliveryWaiter = {
        id,
        settle: (reached) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      this.#waiters.add(waiter);
      // The rows exist (the caller saw them): read now rather than at the next poll.
      this.wake();
    });
  }

  /** Something may have been committed: read now rather than at the next poll. */
  wake(): void {
    this.#wakeups.wake();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.wake();
    await Promise.all([this.#running, this.#listener.close()]);
    for (const waiter of [...this.#waiters]) waiter.settle(false);
  }

  /** Runs until stopped; every failed read is retried after a backed-off pause. */
  async #run(): Promise<void> {
    const { logger } = this.#options;
    const signal = this.#abort.signal;
    // Listen before the first read: whatever commits after it announces itself.
    await this.#listener.start();
    let failures = 0;
    while (!signal.aborted && !this.#isReady) {
      try {
        await this.#init();
      } catch (error) {
        failures += 1;
        if (failures === 1) logger.warn({ ...errorFields(error) }, 'realtime: cannot read the change feed start point; retrying with backoff until it answers');
        await sleep(backoff(failures, READ_RETRY), signal);
      }
    }
    failures = 0;
    while (!signal.aborted) {
      let outcome: PumpOutcome;
      // Read before the look: a wake that arrives while we read means "read again".
      const seen = this.#wakeups.generation;
      try {
        outcome = await this.#pump();
        if (failures > 0) logger.info({ failedAttempts: failures }, 'realtime: the change feed is readable again');
        failures = 0;
      } catch (error) {
        failures += 1;
        // One line per outage, not per retry: the database's own outage line says the rest.
        if (failures === 1) logger.warn({ ...errorFields(error) }, 'realtime: reading the change feed failed; retrying with backoff until it answers');
        await sleep(backoff(failures, READ_RETRY), signal);
        continue;
      }
      if (outcome === 'more') continue;
      const idleMs = outcome === 'blocked' ? (this.#options.gapRecheckMs ?? TAILER_DEFAULTS.gapRecheckMs) : (this.#options.pollIntervalMs ?? TAILER_DEFAULTS.pollIntervalMs);
      await this.#wakeups.wait(seen, idleMs, signal);
    }
  }

  async #init(): Promise<void> {
    const start = await readStartPoint(this.#options.pool, this.#options.startWindow ?? TAILER_DEFAULTS.startWindow);
    if (start.firstHole === undefined) {
      this.#lastId = start.maxId;
    } else {
      // A transaction that took one of the recent missing ids may still commit it; treat the
      // hole like any other (see feed-cursor.ts). What we re-read above it goes only to
      // sockets that subscribe from now on.
      this.#lastId = start.firstHole - 1n;
      this.#witness = { snapshot: start.snapshot, coversId: start.maxId, seenAt: Date.now() };
    }
    this.#isReady = true;
    this.#markReady();
    this.#options.logger.info({ lastId: this.#lastId.toString() }, 'realtime: tailing the change feed');
  }

  async #pump(): Promise<PumpOutcome> {
    const batchSize = this.#options.batchSize ?? TAILER_DEFAULTS.batchSize;
    const read = await readAfter(this.#options.pool, this.#lastId, batchSize, this.#witness?.snapshot);
    if (this.#abort.signal.aborted) return 'idle';
    const step = advance(this.#lastId, read, this.#witness, Date.now(), this.#policy);
    for (const range of step.skipped) {
      const fields = { from: range.from.toString(), to: range.to.toString() };
      if (range.forced) this.#options.logger.error(fields, 'realtime: gave up waiting for change ids; live subscribers may miss them');
      else this.#options.logger.debug(fields, 'realtime: skipped change ids that were never committed');
    }
    for (const change of step.deliver) {
      this.#lastId = change.id;
      try {
        this.#options.onChange(change);
      } catch (error) {
        this.#options.logger.error({ id: change.id.toString(), ...errorFields(error) }, 'realtime: delivering a change failed');
      }
    }
    this.#lastId = step.lastId;
    this.#witness = step.witness;
    for (const waiter of [...this.#waiters]) if (waiter.id <= this.#lastId) waiter.settle(true);
    if (step.blocked) return 'blocked';
    return read.changes.length >= batchSize ? 'more' : 'idle';
  }
}

type PumpOutcome = 'more' | 'blocked' | 'idle';

interface DeliveryWaiter {
  readonly id: bigint;
  settle(reached: boolean): void;
}
