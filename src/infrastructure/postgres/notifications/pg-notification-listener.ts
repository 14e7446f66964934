import pg from 'pg';
import { backoff, jitter, sleep, withTimeout, type BackoffOptions } from '../../../application/support/timing.js';

export interface KeepAliveOptions {
  /** Time between pings, jittered by ±KEEP_ALIVE_JITTER so instances do not ping in step. */
  readonly intervalMs: number;
  /** A ping unanswered this long means the connection is dead, even if TCP has not noticed. */
  readonly timeoutMs: number;
}

/** Why the connection went away, for the caller's log line. */
export interface ConnectionLost {
  /** How many sessions in a row failed or were short-lived (1 after a long healthy one). */
  readonly attempt: number;
  readonly retryInMs: number;
  readonly error: unknown;
}

export interface PgNotificationListenerOptions {
  /**
   * Makes the dedicated connection (not yet connected). A connection of its own rather
   * than one of the pool's: a pooled connection still LISTENing would hand its
   * notifications to whoever borrows it next, and pool exhaustion must not stop us hearing.
   */
  readonly createClient: () => pg.Client;
  readonly channels: readonly string[];
  /** A notification arrived. Must not throw (nor must the hooks below): it runs inside the driver's socket handler. */
  readonly onNotification: (channel: string, payload: string) => void;
  /**
   * LISTEN is in effect again after a time when it was not (a lost connection, or a first
   * attempt that failed): whatever was announced meanwhile is lost, so re-read state now.
   * Not called for the connection start() waited for.
   */
  readonly onReconnect?: () => void;
  /** The connection failed or was lost; a reconnect follows after `retryInMs`. */
  readonly onConnectionLost?: (lost: ConnectionLost) => void;
  readonly reconnect?: BackoffOptions;
  readonly keepAlive?: KeepAliveOptions;
  /** Connecting and LISTENing taking longer than this counts as a failed attempt. */
  readonly setUpTimeoutMs?: number;
}

export const LISTENER_DEFAULTS = {
  reconnect: { minMs: 100, maxMs: 10_000 },
  keepAlive: { intervalMs: 15_000, timeoutMs: 5_000 },
  setUpTimeoutMs: 10_000,
} as const satisfies { reconnect: BackoffOptions; keepAlive: KeepAliveOptions; setUpTimeoutMs: number };

/** The keep-alive interval varies by up to this share of itself, up or down. */
const KEEP_ALIVE_JITTER = 0.2;
/** A session that stayed up this long earns the next reconnect a fresh start on the backoff curve. */
const STABLE_SESSION_MS = 30_000;
/** close() waits this long for the server to acknowledge the goodbye before giving up on it. */
const END_TIMEOUT_MS = 5_000;
/** PostgreSQL truncates identifiers longer than this, so two long names could collide. */
const MAX_CHANNEL_LENGTH = 63;

/** A client factory for `createClient`: the pool's settings, its own application_name. */
export function dedicatedClient(pool: pg.Pool, applicationName: string): () => pg.Client {
  return () => new pg.Client({ ...pool.options, application_name: applicationName, keepAlive: true });
}

/**
 * LISTEN on one or more channels on a dedicated connection, for as long as it runs:
 * reconnects with jittered exponential backoff, and pings on a jittered interval so that
 * a connection that died silently (a half-open TCP connection never errors by itself) is
 * noticed, torn down and replaced. Notifications are wake-up calls only; callers poll as
 * well, and re-read on onReconnect, so a lost notification costs latency, never data.
 */
export class PgNotificationListener {
  readonly #options: PgNotificationListenerOptions;
  readonly #channels: ReadonlySet<string>;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #firstAttempt: Promise<void> | undefined;
  #firstAttemptDone: () => void = () => undefined;
  #listening = false;

  constructor(options: PgNotificationListenerOptions) {
    if (options.channels.length === 0) throw new RangeError('PgNotificationListener needs at least one channel');
    for (const channel of options.channels) {
      if (channel === '' || channel.length > MAX_CHANNEL_LENGTH) throw new RangeError(`channel names must be 1 to ${MAX_CHANNEL_LENGTH} characters: ${JSON.stringify(channel)}`);
    }
    this.#options = options;
    this.#channels = new Set(options.channels);
  }

  /** Whether LISTEN is in effect right now (for readiness checks and tests). */
  get listening(): boolean {
    return this.#listening;
  }

  /**
   * Starts listening (once; later calls return the same promise). Resolves when the first
   * attempt has finished, whether or not it worked; it never rejects. A caller that reads
   * state after this resolves misses nothing: what it could have missed is announced
   * after LISTEN, or signalled through onReconnect.
   */
  start(): Promise<void> {
    if (this.#firstAttempt === undefined) {
      this.#firstAttempt = new Promise((resolve) => (this.#firstAttemptDone = resolve));
      if (this.#stop.signal.aborted) this.#firstAttemptDone();
      else this.#running = this.#run();
    }
    return this.#firstAttempt;
  }

  /** Stops for good; idempotent. Resolves once no timer, connection or socket is left. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#firstAttemptDone();
    await this.#running;
  }

  /** One session after another until close(): the loop runs until stopped; its waits are backed off. */
  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const policy = this.#options.reconnect ?? LISTENER_DEFAULTS.reconnect;
    let failures = 0;
    let sessions = 0;
    while (!signal.aborted) {
      sessions += 1;
      const ended = await this.#session(sessions === 1);
      this.#firstAttemptDone();
      if (signal.aborted) break;
      failures = ended.upForMs >= STABLE_SESSION_MS ? 1 : failures + 1;
      const retryInMs = backoff(failures, policy);
      this.#options.onConnectionLost?.({ attempt: failures, retryInMs, error: ended.error });
      // Waiting to reconnect is no reason to keep a process alive that has nothing else to do.
      await sleep(retryInMs, signal, { keepsProcessAlive: false });
    }
  }

  /** Connects, listens, and returns once the connection is no longer usable (or on close). */
  async #session(first: boolean): Promise<{ readonly error: unknown; readonly upForMs: number }> {
    const signal = this.#stop.signal;
    let client: pg.Client;
    try {
      client = this.#options.createClient();
    } catch (error) {
      // A bad setting, say: reported and retried like any failed connection.
      return { error, upForMs: 0 };
    }
    let lose: (error: unknown) => void = () => undefined;
    const lost = new Promise<unknown>((resolve) => (lose = resolve));
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => lose(error));
    client.on('end', () => lose(new Error('the LISTEN connection ended')));
    client.on('notification', (message) => {
      if (this.#channels.has(message.channel)) this.#options.onNotification(message.channel, message.payload ?? '');
    });
    const onStop = (): void => lose(undefined);
    signal.addEventListener('abort', onStop, { once: true });
    let keepAlive: KeepAlive | undefined;
    let listeningSince: number | undefined;
    try {
      const setUp = withTimeout(this.#listenOn(client), this.#options.setUpTimeoutMs ?? LISTENER_DEFAULTS.setUpTimeoutMs, 'connecting and LISTENing');
      // A close() while connecting must not wait for the connect timeout.
      const setUpOrLost = await Promise.race([setUp.then(() => 'listening' as const), lost]);
      if (setUpOrLost !== 'listening') {
        setUp.catch(() => undefined);
        return { error: setUpOrLost, upForMs: 0 };
      }
      listeningSince = performance.now();
      this.#listening = true;
      keepAlive = new KeepAlive(client, this.#options.keepAlive ?? LISTENER_DEFAULTS.keepAlive, lose);
      this.#firstAttemptDone();
      if (!first) this.#options.onReconnect?.();
      const error = await lost;
      return { error, upForMs: performance.now() - listeningSince };
    } catch (error) {
      return { error, upForMs: 0 };
    } finally {
      this.#listening = false;
      keepAlive?.stop();
      signal.removeEventListener('abort', onStop);
      client.removeAllListeners('notification');
      // The 'error' listener stays: a late socket error on a client being ended must not crash us.
      await endClient(client);
    }
  }

  async #listenOn(client: pg.Client): Promise<void> {
    await client.connect();
    for (const channel of this.#options.channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
  }
}

/** Pings on a jittered interval; a ping that fails or does not answer in time loses the connection. */
class KeepAlive {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly client: pg.Client,
    private readonly options: KeepAliveOptions,
    private readonly lose: (error: unknown) => void,
  ) {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#ping(), jitter(this.options.intervalMs, KEEP_ALIVE_JITTER));
    // The connection's socket keeps the process alive while it matters; the ping need not.
    this.#timer.unref();
  }

  async #ping(): Promise<void> {
    try {
      await withTimeout(this.client.query('SELECT 1'), this.options.timeoutMs, 'the LISTEN connection keep-alive ping');
    } catch (error) {
      this.lose(error);
      return;
    }
    this.#schedule();
  }
}

/**
 * Ends the connection without ever hanging: pg destroys the socket itself when a query
 * (such as an unanswered ping) is still active, and the goodbye of a healthy one is bounded.
 */
async function endClient(client: pg.Client): Promise<void> {
  await withTimeout(client.end(), END_TIMEOUT_MS, 'closing the LISTEN connection').catch(() => undefined);
}
