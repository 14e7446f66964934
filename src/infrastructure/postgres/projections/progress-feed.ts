import pg from 'pg';
import type { ProjectionProgressFeed } from '../../../application/ports/projection-store.js';
import { PROJECTIONS_CHANNEL } from './schema.js';

export interface ProgressFeedOptions {
  /** The LISTEN connection; default: a new pg.Client with the pool's settings. */
  readonly createClient?: () => pg.Client;
  /** How often the connection is proven alive. Default 15,000 ms. */
  readonly pingIntervalMs?: number;
}

/**
 * LISTEN ledger_projections on one dedicated connection per process, connected on the
 * first subscription and reconnected with bounded backoff. Notifications are wake-up
 * calls only: whatever is lost while reconnecting, the waiters' polling covers.
 */
export class PostgresProjectionProgressFeed implements ProjectionProgressFeed {
  private readonly listeners = new Set<(projection: string) => void>();
  private readonly createClient: () => pg.Client;
  private readonly pingIntervalMs: number;
  private client: pg.Client | undefined;
  private connecting = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private attempt = 0;
  private closed = false;

  constructor(pool: pg.Pool, options: ProgressFeedOptions = {}) {
    this.createClient =
      options.createClient ??
      (() =>
        new pg.Client({
          ...pool.options,
          application_name: `${pool.options.application_name ?? 'ledger'}:projection-progress`,
          keepAlive: true,
          query_timeout: 10_000,
        }));
    this.pingIntervalMs = options.pingIntervalMs ?? 15_000;
  }

  subscribe(listener: (projection: string) => void): () => void {
    this.listeners.add(listener);
    this.connect();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Whether LISTEN is in effect right now (for readiness checks and tests). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopPing();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): void {
    if (this.client || this.connecting || this.retryTimer || this.closed) return;
    this.connecting = true;
    const client = this.createClient();
    client.on('notification', (message) => {
      if (message.channel !== PROJECTIONS_CHANNEL || !message.payload) return;
      for (const listener of this.listeners) listener(message.payload);
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client
      .connect()
      .then(() => client.query(`LISTEN ${PROJECTIONS_CHANNEL}`))
      .then(() => {
        this.connecting = false;
        if (this.closed) {
          void client.end().catch(() => undefined);
          return;
        }
        this.client = client;
        this.attempt = 0;
        this.startPing(client);
      })
      .catch(() => {
        this.connecting = false;
        this.lost(client);
      });
  }

  private lost(client: pg.Client): void {
    if (this.client === client) {
      this.client = undefined;
      this.stopPing();
    }
    void client.end().catch(() => undefined);
    if (this.closed || this.listeners.size === 0 || this.retryTimer || this.connecting || this.client) return;
    this.attempt += 1;
    const delay = Math.min(10_000, 100 * 2 ** Math.min(this.attempt, 7));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private startPing(client: pg.Client): void {
    this.stopPing();
    // A half-open TCP connection never errors by itself; a query with a client-side timeout does.
    this.pingTimer = setInterval(() => {
      client.query('SELECT 1').catch(() => this.lost(client));
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}
