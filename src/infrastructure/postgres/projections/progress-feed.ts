import type pg from 'pg';
import type { ProjectionProgressFeed } from '../../../application/ports/projection-store.js';
import { dedicatedClient, PgNotificationListener, type KeepAliveOptions } from '../notifications/pg-notification-listener.js';
import { PROJECTIONS_CHANNEL } from './schema.js';

export interface ProgressFeedOptions {
  /** The LISTEN connection; default: a new pg.Client with the pool's settings. */
  readonly createClient?: () => pg.Client;
  readonly keepAlive?: KeepAliveOptions;
}

/**
 * LISTEN ledger_projections on one dedicated connection per process, connected on the
 * first subscription and kept up (reconnected, pinged) until close(). Notifications are
 * wake-up calls only: the port promises no more, and waiters poll while they wait, so
 * what is announced while the connection is down costs them one poll interval at most.
 */
export class PostgresProjectionProgressFeed implements ProjectionProgressFeed {
  private readonly listeners = new Set<(projection: string) => void>();
  private readonly listener: PgNotificationListener;

  constructor(pool: pg.Pool, options: ProgressFeedOptions = {}) {
    this.listener = new PgNotificationListener({
      createClient: options.createClient ?? dedicatedClient(pool, `${pool.options.application_name ?? 'ledger'}:projection-progress`),
      channels: [PROJECTIONS_CHANNEL],
      onNotification: (_channel, projection) => {
        if (projection === '') return;
        for (const listener of this.listeners) listener(projection);
      },
      ...(options.keepAlive === undefined ? {} : { keepAlive: options.keepAlive }),
    });
  }

  subscribe(listener: (projection: string) => void): () => void {
    this.listeners.add(listener);
    void this.listener.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Whether LISTEN is in effect right now (for readiness checks and tests). */
  get listening(): boolean {
    return this.listener.listening;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.listener.close();
  }
}
