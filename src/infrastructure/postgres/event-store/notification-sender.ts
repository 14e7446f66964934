import type pg from 'pg';

// Each NOTIFY is a transaction and a WAL flush of its own. At most one per this interval:
// the appends of a busy writer coalesce into one wake-up, at the price of at most this much
// extra latency for subscribers in other instances (local ones are woken directly).
const NOTIFY_MIN_INTERVAL_MS = 10;

/**
 * Sends NOTIFY out of band after appends. NOTIFY inside the append would hold the
 * cluster-wide notify lock through every append's commit (measured: an INSERT with a NOTIFY
 * in its transaction ran 7-10x slower at 8 and 32 writers); here at most one is in flight
 * per instance, and appends that finish meanwhile share the next one (it starts after they
 * committed). See docs/architecture.md, "Event store".
 * Never on an append's path.
 */
export class NotificationSender {
  #inFlight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly payload: string,
  ) {}

  request(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastSentAt + NOTIFY_MIN_INTERVAL_MS - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastSentAt = performance.now();
      const previous = this.#inFlight ?? Promise.resolve();
      this.#inFlight = previous.then(() => this.#send());
    }, wait);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  async #send(): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, this.payload]);
    } catch {
      // Best effort: other instances' subscribers fall back to polling.
    }
  }
}
