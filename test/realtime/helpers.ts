import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { CHANGES_CHANNEL } from '../../src/infrastructure/postgres/realtime/schema.js';
import type { Ack, ChangeMessage } from '../../src/infrastructure/realtime/index.js';

/** What the projection runner would insert: one row per (change, topic). */
export interface TestChange {
  readonly topic: string;
  /** Position `<n>.<n>`. */
  readonly at: number;
  readonly type?: string;
  readonly data?: unknown;
  /** ISO timestamp; default now(). */
  readonly createdAt?: string;
}

export const pos = (n: number): string => `${n}.${n}`;

/**
 * Inserts the rows in one transaction, in order (so ids follow the array), and, like the
 * runner, NOTIFYs once, on commit. Pass a client inside an open transaction and
 * `notify: false` to hold the rows back.
 */
export async function insertChanges(db: Pick<pg.Pool, 'query'> | pg.PoolClient, changes: readonly TestChange[], notify = true): Promise<void> {
  await db.query(
    `WITH ins AS (
       INSERT INTO realtime_changes (projection, topic, type, position_commit, position_prepare, data, created_at)
       SELECT 'test', t.topic, t.type, t.at, t.at, t.data, coalesce(t.created_at, now())
         FROM unnest($1::text[], $2::text[], $3::numeric[], $4::jsonb[], $5::timestamptz[]) WITH ORDINALITY
              AS t(topic, type, at, data, created_at, ord)
        ORDER BY t.ord
       RETURNING 1
     )
     SELECT count(*) AS inserted${notify ? `, pg_notify('${CHANGES_CHANNEL}', '')` : ''} FROM ins`,
    [
      changes.map((c) => c.topic),
      changes.map((c) => c.type ?? 'test.changed'),
      changes.map((c) => c.at),
      changes.map((c) => JSON.stringify(c.data ?? { at: c.at })),
      changes.map((c) => c.createdAt ?? null),
    ],
  );
}

export async function listen(): Promise<{ server: HttpServer; url: string }> {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export async function closeHttp(server: HttpServer | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A connected client that records every `change` it receives. */
export class TestClient {
  readonly changes: ChangeMessage[] = [];
  private constructor(readonly socket: ClientSocket) {
    socket.on('change', (change: ChangeMessage) => this.changes.push(change));
  }

  static async connect(url: string): Promise<TestClient> {
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return client;
  }

  subscribe(payload: unknown): Promise<Ack> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', payload) as Promise<Ack>;
  }

  unsubscribe(payload: unknown): Promise<Ack> {
    return this.socket.timeout(10_000).emitWithAck('unsubscribe', payload) as Promise<Ack>;
  }

  /** Positions received for one topic, in arrival order. */
  positions(topic: string): string[] {
    return this.changes.filter((c) => c.topic === topic).map((c) => c.position);
  }

  async waitFor(check: (changes: readonly ChangeMessage[]) => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    await waitUntil(() => check(this.changes), `${what} (received: ${this.changes.map((c) => `${c.topic}@${c.position}`).join(', ')})`, timeoutMs);
  }

  close(): void {
    this.socket.disconnect();
  }
}

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
