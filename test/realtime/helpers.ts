import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { CHANGES_CHANNEL } from '../../src/infrastructure/postgres/realtime/schema.js';
import type { Ack, ChangeMessage, ErrorMessage } from '../../src/infrastructure/realtime/index.js';

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

/** What a realtime suite sets up, torn down in order: clients, the realtime module, the HTTP server, the database. */
export async function tearDownRealtime(parts: {
  readonly clients: readonly { close(): void }[];
  readonly realtime: { close(): Promise<void> } | undefined;
  readonly server: HttpServer | undefined;
  readonly db: { drop(): Promise<void> } | undefined;
}): Promise<void> {
  for (const c of parts.clients) c.close();
  await parts.realtime?.close();
  await closeHttp(parts.server);
  await parts.db?.drop();
}

export async function closeHttp(server: HttpServer | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** What the handshake `auth` carries; `{ token }` when the server authenticates. */
export type HandshakeAuth = Record<string, unknown>;

/** A connected client that records every `change`, `error` and disconnect reason it receives. */
export class TestClient {
  readonly changes: ChangeMessage[] = [];
  readonly errors: string[] = [];
  readonly disconnects: string[] = [];
  private constructor(readonly socket: ClientSocket) {
    socket.on('change', (change: ChangeMessage) => this.changes.push(change));
    socket.on('error', (message: ErrorMessage) => this.errors.push(message.error));
    socket.on('disconnect', (reason) => this.disconnects.push(reason));
  }

  static async connect(url: string, auth?: HandshakeAuth): Promise<TestClient> {
    const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...(auth ? { auth } : {}) });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error) => {
        socket.disconnect();
        reject(error);
      });
    });
    return client;
  }

  /** Connects the same socket again, e.g. with a fresh token. */
  async reconnect(auth: HandshakeAuth): Promise<void> {
    this.socket.auth = auth;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Resolves with the reason once the socket is disconnected (at once if it already is). */
  async disconnected(timeoutMs = 5_000): Promise<string> {
    await waitUntil(() => !this.socket.connected && this.disconnects.length > 0, 'a disconnect', timeoutMs);
    return this.disconnects[this.disconnects.length - 1]!;
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

/** The `connect_error` a handshake with `auth` gets; fails if it connects instead. */
export async function connectError(url: string, auth?: HandshakeAuth): Promise<Error & { data?: unknown }> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...(auth ? { auth } : {}) });
  try {
    return await new Promise<Error & { data?: unknown }>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected, but a connect_error was expected')));
      socket.once('connect_error', resolve);
    });
  } finally {
    socket.disconnect();
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
