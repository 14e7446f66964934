import type { Server as HttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerMetrics } from '../../src/infrastructure/metrics/metrics.js';
import { createPool } from '../../src/infrastructure/postgres/pool.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { realtimeMigrations } from '../../src/infrastructure/postgres/realtime/schema.js';
import { attachRealtime } from '../../src/infrastructure/container/realtime.js';
import type { RealtimeHandle } from '../../src/infrastructure/realtime/index.js';
import { listen, tearDownRealtime, TestClient } from '../realtime/helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { valueOf } from './support.js';

/* State metrics read at scrape time from the real things: a pg pool, a Socket.IO server with real clients. */

let db: TestDatabase;
let server: HttpServer;
let url: string;
let realtime: RealtimeHandle;
const clients: TestClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase('metrics');
  await migrate(db.pool, realtimeMigrations);
  ({ server, url } = await listen());
  realtime = attachRealtime(server, { pool: db.pool, retention: false });
  await realtime.ready;
});
afterAll(() => tearDownRealtime({ clients, realtime, server, db }));

describe('pg pool gauges', () => {
  it('count connections in use, idle, and queries waiting for one', async () => {
    const metrics = new LedgerMetrics({ defaultMetrics: false });
    const pool = createPool({ connectionString: db.url, max: 2 });
    metrics.watchPool(pool);
    try {
      const a = await pool.connect();
      const b = await pool.connect();
      const waiting = pool.query('SELECT 1');
      expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'in_use' })).toBe(2);
      expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'total' })).toBe(2);
      expect(await valueOf(metrics, 'ledger_pg_pool_waiting')).toBe(1);
      a.release();
      await waiting;
      b.release();
      expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'in_use' })).toBe(0);
      expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'idle' })).toBe(2);
      expect(await valueOf(metrics, 'ledger_pg_pool_waiting')).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

describe('Socket.IO gauges', () => {
  it('count open connections and the topics they follow', async () => {
    const metrics = new LedgerMetrics({ defaultMetrics: false });
    metrics.watchSocketIo(realtime.io);
    expect(await valueOf(metrics, 'ledger_socketio_connections')).toBe(0);
    const a = await TestClient.connect(url);
    const b = await TestClient.connect(url);
    clients.push(a, b);
    expect(await a.subscribe({ topics: ['payment:pay_1', 'customer:cus_1'] })).toEqual({ ok: true });
    expect(await b.subscribe({ topics: ['payment:pay_1'] })).toEqual({ ok: true });
    expect(await valueOf(metrics, 'ledger_socketio_connections')).toBe(2);
    expect(await valueOf(metrics, 'ledger_socketio_subscriptions')).toBe(3);
    expect(await a.unsubscribe({ topics: ['customer:cus_1'] })).toEqual({ ok: true });
    expect(await valueOf(metrics, 'ledger_socketio_subscriptions')).toBe(2);
    b.close();
    for (let attempt = 1; attempt <= 50 && (await valueOf(metrics, 'ledger_socketio_connections')) !== 1; attempt++) await new Promise((r) => setTimeout(r, 20));
    expect(await valueOf(metrics, 'ledger_socketio_connections')).toBe(1);
    expect(await valueOf(metrics, 'ledger_socketio_subscriptions')).toBe(1);
  });
});
