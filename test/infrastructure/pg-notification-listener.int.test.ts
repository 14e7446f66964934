import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/application/support/timing.js';
import {
  PgNotificationListener,
  type ConnectionLost,
  type PgNotificationListenerOptions,
} from '../../src/infrastructure/postgres/notifications/pg-notification-listener.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const APP = 'listener-under-test';

interface Recorder {
  readonly heard: { channel: string; payload: string }[];
  readonly lost: ConnectionLost[];
  reconnects: number;
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('PgNotificationListener', () => {
  let db: TestDatabase;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('pg_listener');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await db.drop();
  });

  const listenerPids = async (): Promise<number[]> =>
    (await db.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [APP])).rows.map(
      (r) => r.pid,
    );

  async function proxyToDatabase(): Promise<TcpProxy> {
    const url = new URL(db.url);
    const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => proxy.close());
    return proxy;
  }

  function listener(options: Partial<PgNotificationListenerOptions> & { port?: number } = {}): { listener: PgNotificationListener; rec: Recorder } {
    const rec: Recorder = { heard: [], lost: [], reconnects: 0 };
    const url = new URL(db.url);
    const created = new PgNotificationListener({
      createClient: () =>
        new pg.Client({
          host: url.hostname,
          port: options.port ?? Number(url.port || 5432),
          user: decodeURIComponent(url.username) || 'postgres',
          database: db.name,
          application_name: APP,
        }),
      channels: ['chan_a', 'chan_b'],
      onNotification: (channel, payload) => rec.heard.push({ channel, payload }),
      onReconnect: () => (rec.reconnects += 1),
      onConnectionLost: (lost) => rec.lost.push(lost),
      reconnect: { minMs: 20, maxMs: 200 },
      ...options,
    });
    cleanups.push(() => created.close());
    return { listener: created, rec };
  }

  it('hears NOTIFY on each of its channels, and only on those', async () => {
    const { listener: l, rec } = listener();
    expect(l.listening).toBe(false);
    await l.start();
    expect(l.listening).toBe(true);
    await db.pool.query(`SELECT pg_notify('chan_a', 'one'), pg_notify('other', 'x'), pg_notify('chan_b', '')`);
    await eventually(() => rec.heard.length >= 2, 'two notifications');
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.heard).toEqual([
      { channel: 'chan_a', payload: 'one' },
      { channel: 'chan_b', payload: '' },
    ]);
    expect(rec.reconnects).toBe(0);
    expect(rec.lost).toEqual([]);
  });

  it('reconnects after pg_terminate_backend, calls onReconnect, and hears again', async () => {
    const { listener: l, rec } = listener();
    await l.start();
    const [old] = await listenerPids();
    expect(old).toBeDefined();
    await db.pool.query('SELECT pg_terminate_backend($1)', [old]);
    await eventually(() => rec.reconnects === 1 && l.listening, 'a reconnect');
    expect(rec.lost).toHaveLength(1);
    expect(rec.lost[0]).toMatchObject({ attempt: 1 });
    expect(rec.lost[0]!.retryInMs).toBeLessThanOrEqual(20);
    const pids = await listenerPids();
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(old);
    await db.pool.query(`NOTIFY chan_a, 'after'`);
    await eventually(() => rec.heard.some((h) => h.payload === 'after'), 'a notification on the new connection');
  });

  it('detects a silently stalled connection with its keep-alive ping and replaces it', async () => {
    const proxy = await proxyToDatabase();
    const { listener: l, rec } = listener({ port: proxy.port, keepAlive: { intervalMs: 100, timeoutMs: 300 } });
    await l.start();
    await db.pool.query(`NOTIFY chan_a, 'before'`);
    await eventually(() => rec.heard.length === 1, 'a notification before the stall');

    // Nothing errors: the socket stays open and the server still thinks all is well.
    proxy.stall();
    await db.pool.query(`NOTIFY chan_a, 'lost'`);
    await eventually(() => rec.lost.length === 1, 'the stall to be detected', 3_000);
    expect(rec.lost[0]!.error).toBeInstanceOf(TimeoutError);
    await eventually(() => rec.reconnects === 1 && l.listening, 'a reconnect through a fresh connection');

    await db.pool.query(`NOTIFY chan_b, 'after'`);
    await eventually(() => rec.heard.some((h) => h.payload === 'after'), 'a notification after the reconnect');
    expect(rec.heard.map((h) => h.payload)).not.toContain('lost');
  });

  it('keeps pinging a healthy connection without losing it', async () => {
    const { listener: l, rec } = listener({ keepAlive: { intervalMs: 20, timeoutMs: 1_000 } });
    await l.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(rec.lost).toEqual([]);
    expect(l.listening).toBe(true);
  });

  it('resolves start() after a failed first attempt, keeps retrying, and signals the late connection with onReconnect', async () => {
    const url = new URL(db.url);
    let refuse = true;
    const { listener: l, rec } = listener({
      createClient: () =>
        new pg.Client(
          refuse
            ? { host: '127.0.0.1', port: 1 }
            : { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username) || 'postgres', database: db.name, application_name: APP },
        ),
    });
    await l.start();
    expect(l.listening).toBe(false);
    await eventually(() => rec.lost.length >= 2, 'retries');
    expect(rec.lost.map((x) => x.attempt).slice(0, 2)).toEqual([1, 2]);
    refuse = false;
    await eventually(() => rec.reconnects === 1 && l.listening, 'the late connection');
  });

  it('treats a client factory that throws as a failed attempt, not a crash', async () => {
    const url = new URL(db.url);
    const broken = new Error('bad settings');
    let calls = 0;
    const { listener: l, rec } = listener({
      createClient: () => {
        calls += 1;
        if (calls === 1) throw broken;
        return new pg.Client({ host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username) || 'postgres', database: db.name, application_name: APP });
      },
    });
    await l.start();
    expect(rec.lost[0]?.error).toBe(broken);
    await eventually(() => rec.reconnects === 1 && l.listening, 'the next attempt');
  });

  it('close() is idempotent, ends the connection, and stops reconnecting', async () => {
    const { listener: l, rec } = listener();
    await l.start();
    expect(await listenerPids()).toHaveLength(1);
    await Promise.all([l.close(), l.close()]);
    await l.close();
    expect(l.listening).toBe(false);
    await eventually(async () => (await listenerPids()).length === 0, 'the backend to go');
    await new Promise((r) => setTimeout(r, 100));
    expect(await listenerPids()).toHaveLength(0);
    expect(rec.reconnects).toBe(0);
    expect(rec.lost).toEqual([]);
    // start() after close() does nothing, and says so at once.
    await l.start();
    expect(l.listening).toBe(false);
  });

  it('close() while connecting returns promptly', async () => {
    const proxy = await proxyToDatabase();
    // A connection that never completes its handshake.
    proxy.stall({ newConnections: true });
    const { listener: l } = listener({ port: proxy.port });
    const started = l.start();
    await new Promise((r) => setTimeout(r, 100));
    const before = Date.now();
    await l.close();
    await started;
    expect(Date.now() - before).toBeLessThan(1_000);
    expect(l.listening).toBe(false);
  });

  it('counts a set-up that does not finish in time as a failed attempt', async () => {
    const proxy = await proxyToDatabase();
    proxy.stall({ newConnections: true });
    const { listener: l, rec } = listener({ port: proxy.port, setUpTimeoutMs: 150 });
    const before = Date.now();
    await l.start();
    expect(Date.now() - before).toBeLessThan(1_000);
    expect(l.listening).toBe(false);
    expect(rec.lost[0]?.error).toBeInstanceOf(TimeoutError);
  });

  describe('leaves no handle behind (the process exits by itself after close())', () => {
    const fixture = fileURLToPath(new URL('./fixtures/listener-exits.ts', import.meta.url));
    const run = (mode: string): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', fixture, db.url, mode], { timeout: 20_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`${error.message}\n${stderr}`));
          else resolve(stdout.trim());
        });
      });

    it('after listening and hearing a notification', async () => {
      expect(JSON.parse(await run('listening'))).toEqual({ listening: true, after: false });
    });

    it('while waiting to reconnect to a server that refuses', async () => {
      expect(JSON.parse(await run('unreachable'))).toEqual({ listening: false, after: false });
    });
  });
});
