import pg from 'pg';
import { errorFields, type RealtimeLogger } from './logger.js';
import { backoffMs, delay, type BackoffOptions } from './timing.js';

export interface NotificationListenerOptions {
  /** The listener holds one of the pool's connections for as long as it runs. */
  readonly pool: pg.Pool;
  readonly channel: string;
  /** A notification arrived: something new may be in the table. */
  readonly onNotification: () => void;
  /** (Re)connected: notifications sent while we were away are lost, so look now. */
  readonly onConnected: () => void;
  readonly logger: RealtimeLogger;
  readonly backoff?: BackoffOptions;
  /** How often to prove the connection alive; a half-open TCP connection never errors. */
  readonly pingIntervalMs?: number;
  readonly pingTimeoutMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell this connection apart. */
  readonly applicationName?: string;
}

/**
 * LISTEN on a dedicated connection, reconnecting with bounded backoff whenever it is lost.
 * Notifications are only a wake-up call: the tailer polls as well, so a lost
 * notification costs latency, never a change.
 */
export class NotificationListener {
  readonly #options: NotificationListenerOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #connected = false;

  constructor(options: NotificationListenerOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { logger, channel } = this.#options;
    const backoff = this.#options.backoff ?? { minMs: 100, maxMs: 10_000 };
    let attempt = 0;
    while (!this.#abort.signal.aborted) {
      const reason = await this.#listenOnce().catch((error: unknown) => error);
      this.#connected = false;
      if (this.#abort.signal.aborted) break;
      attempt += 1;
      const wait = backoffMs(attempt, backoff);
      logger.warn({ channel, attempt, retryInMs: wait, ...errorFields(reason) }, 'realtime: LISTEN connection lost; reconnecting');
      await delay(wait, this.#abort.signal);
      // A connection that stayed up a while earns a fresh start on the backoff curve.
      if (reason instanceof LostAfterUse) attempt = 0;
    }
  }

  /** Connects, listens, and returns (or throws) once the connection is no longer usable. */
  async #listenOnce(): Promise<unknown> {
    const { pool, channel, applicationName } = this.#options;
    const client = await pool.connect();
    // A checked-out pg client has no error listener; an unhandled 'error' would crash the process.
    let lost: (reason: unknown) => void = () => undefined;
    const lostPromise = new Promise<unknown>((resolve) => (lost = resolve));
    client.on('error', (error) => lost(error));
    client.on('end', () => lost(new Error('connection ended')));
    const onStop = (): void => lost(undefined);
    this.#abort.signal.addEventListener('abort', onStop, { once: true });
    if (this.#abort.signal.aborted) onStop(); // stop() ran while we were connecting
    let pinger: NodeJS.Timeout | undefined;
    try {
      if (applicationName !== undefined) await client.query(`SELECT set_config('application_name', $1, false)`, [applicationName]);
      client.on('notification', (message) => {
        if (message.channel === channel) this.#options.onNotification();
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.#connected = true;
      this.#options.onConnected();
      const connectedAt = Date.now();
      pinger = this.#startPinging(client, lost);
      const reason = await lostPromise;
      if (this.#abort.signal.aborted) return undefined;
      return Date.now() - connectedAt > 30_000 ? new LostAfterUse(reason) : reason;
    } finally {
      clearInterval(pinger);
      this.#abort.signal.removeEventListener('abort', onStop);
      client.removeAllListeners('notification');
      // Destroy, never return it to the pool: a pooled connection still LISTENing would
      // hand its notifications to whoever borrows it next.
      client.release(true);
    }
  }

  #startPinging(client: pg.PoolClient, lost: (reason: unknown) => void): NodeJS.Timeout {
    const interval = this.#options.pingIntervalMs ?? 30_000;
    const timeout = this.#options.pingTimeoutMs ?? 5_000;
    let inFlight = false;
    const timer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      const deadline = setTimeout(() => lost(new Error(`ping unanswered after ${timeout} ms`)), timeout);
      client
        .query('SELECT 1')
        .catch((error: unknown) => lost(error))
        .finally(() => {
          clearTimeout(deadline);
          inFlight = false;
        });
    }, interval);
    timer.unref();
    return timer;
  }
}

/** The connection worked for a while before it was lost; wraps the underlying reason. */
class LostAfterUse extends Error {
  constructor(reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}
