import type pg from 'pg';
import type { LeasePurpose, ProjectionLease } from '../../../application/ports/projection-store.js';

/*
 * Leases are PostgreSQL session advisory locks keyed (purpose class, hashtext(name)), all
 * held on one dedicated connection per store. A session lock lives exactly as long as its
 * session: if this process dies, or its connection does, the server frees the lock and a
 * follower elsewhere takes it on its next try. Locks are per database, so several test
 * databases on one server do not see each other's.
 */

/** Lock classes (the first key); any constants, the same in every instance. */
export const LEASE_LOCK_CLASS: Readonly<Record<LeasePurpose, number>> = { run: 1_347_570_001, rebuild: 1_347_570_002 };

const TRY_LOCK = `SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS acquired`;
const UNLOCK = `SELECT pg_advisory_unlock($1::int, hashtext($2)) AS released`;
const RECORD_HOLDER = `
INSERT INTO projection_leases (name, purpose, holder, backend_pid, acquired_at)
VALUES ($1, $2, $3, pg_backend_pid(), now())
ON CONFLICT (name, purpose) DO UPDATE
  SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid, acquired_at = EXCLUDED.acquired_at`;

interface HeldLease {
  readonly name: string;
  readonly purpose: LeasePurpose;
  readonly client: pg.Client;
  readonly controller: AbortController;
}

export interface AdvisoryLeasesOptions {
  /** Makes the dedicated connection (not yet connected). */
  readonly createClient: () => pg.Client;
  /** How often the connection is proven alive while leases are held. */
  readonly heartbeatMs: number;
}

export class AdvisoryLeases {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Keys being acquired or held here: session locks are re-entrant, so the process must refuse a second holder itself. */
  private readonly claimed = new Set<string>();
  private readonly held = new Map<string, HeldLease>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /**
   * One statement at a time on the shared connection: several runners acquire and release
   * concurrently, and pg deprecates issuing a query while another is executing.
   */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AdvisoryLeasesOptions) {}

  async tryAcquire(name: string, purpose: LeasePurpose, holder: string): Promise<ProjectionLease | undefined> {
    const key = `${purpose}:${name}`;
    if (this.closed || this.claimed.has(key)) return undefined;
    this.claimed.add(key);
    let granted = false;
    try {
      const client = await this.connection();
      const locked = await this.serially(() => client.query<{ acquired: boolean }>(TRY_LOCK, [LEASE_LOCK_CLASS[purpose], name]));
      if (locked.rows[0]?.acquired !== true) return undefined;
      try {
        await this.serially(() => client.query(RECORD_HOLDER, [name, purpose, holder]));
      } catch (error) {
        await this.serially(() => client.query(UNLOCK, [LEASE_LOCK_CLASS[purpose], name])).catch(() => undefined);
        throw error;
      }
      const controller = new AbortController();
      this.held.set(key, { name, purpose, client, controller });
      granted = true;
      this.startHeartbeat();
      return { lost: controller.signal, release: () => this.release(key) };
    } finally {
      if (!granted) this.claimed.delete(key);
    }
  }

  /** Releases every lease and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const key of [...this.held.keys()]) await this.release(key);
    this.stopHeartbeat();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async release(key: string): Promise<void> {
    const lease = this.held.get(key);
    if (!lease) return;
    this.held.delete(key);
    this.claimed.delete(key);
    if (this.held.size === 0) this.stopHeartbeat();
    // On a dead connection the server has already dropped the lock.
    if (lease.client === this.client && !lease.controller.signal.aborted) {
      await this.serially(() => lease.client.query(UNLOCK, [LEASE_LOCK_CLASS[lease.purpose], lease.name])).catch(() => undefined);
    }
  }

  /** Runs `statement` after every statement queued before it on this connection, failed or not. */
  private serially<T>(statement: () => Promise<T>): Promise<T> {
    const mine = this.turn.then(statement, statement);
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = this.options.createClient();
    client.on('error', () => this.lose(client));
    client.on('end', () => this.lose(client));
    await client.connect();
    // If this host dies without closing the socket, the server would keep the session, and
    // the locks, until TCP keepalive gives up (hours by default). The heartbeat keeps a
    // live session busy, so an idle timeout a few beats long frees a dead one's locks.
    await client
      .query(`SELECT set_config('idle_session_timeout', $1, false)`, [`${Math.max(10_000, this.options.heartbeatMs * 4)}ms`])
      .catch(() => undefined); // PostgreSQL < 14 has no such setting: keepalive it is
    this.client = client;
    return client;
  }

  /** The connection is gone, and with it every lock it held: tell each holder. */
  private lose(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    for (const [key, lease] of this.held) {
      if (lease.client !== client) continue;
      this.held.delete(key);
      this.claimed.delete(key);
      lease.controller.abort(new Error(`lease ${key} lost with its connection`));
    }
    if (this.held.size === 0) this.stopHeartbeat();
    void client.end().catch(() => undefined);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    // A half-open TCP connection never errors by itself; a query with a client-side
    // timeout (query_timeout) proves the session, and so the locks, still exist.
    this.heartbeat = setInterval(() => {
      const client = this.client;
      if (!client) return;
      this.serially(() => client.query('SELECT 1')).catch(() => this.lose(client));
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
