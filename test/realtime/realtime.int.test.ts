import type { Server as HttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { createPool } from '../../src/infrastructure/postgres/pool.js';
import { realtimeMigrations } from '../../src/infrastructure/postgres/realtime/schema.js';
import { attachRealtime } from '../../src/infrastructure/container/realtime.js';
import { pruneChanges, type RealtimeHandle } from '../../src/infrastructure/realtime/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { closeHttp, insertChanges, listen, pos, sleep, TestClient, tearDownRealtime } from './helpers.js';

// Integration: real PostgreSQL (a fresh database per describe), real Socket.IO server and
// client over a real HTTP server. createTestDatabase throws when PostgreSQL is missing,
// which fails the suite rather than skipping it.

const MAX_BACKLOG = 500;

describe('realtime over Socket.IO', () => {
  let db: TestDatabase | undefined;
  let server: HttpServer | undefined;
  let realtime: RealtimeHandle | undefined;
  let url = '';
  const clients: TestClient[] = [];
  // Positions only ever grow in this database, like the runner's.
  let lastPosition = 0;
  const next = (): number => (lastPosition += 1);

  const pool = () => {
    if (!db) throw new Error('no database');
    return db.pool;
  };
  const client = async (at = url): Promise<TestClient> => {
    const c = await TestClient.connect(at);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await createTestDatabase('realtime');
    await migrate(db.pool, realtimeMigrations);
    ({ server, url } = await listen());
    realtime = attachRealtime(server, {
      pool: db.pool,
      limits: { maxBacklog: MAX_BACKLOG },
      retention: false,
    });
    await realtime.ready;
  });

  afterAll(() => tearDownRealtime({ clients, realtime, server, db }));

  it('delivers a live change to the subscribers of its topic and no one else', async () => {
    const [a, b] = [await client(), await client()];
    expect(await a.subscribe({ topics: ['payment:live_a'] })).toEqual({ ok: true });
    expect(await b.subscribe({ topics: ['payment:live_b'] })).toEqual({ ok: true });

    const atA = next();
    await insertChanges(pool(), [{ topic: 'payment:live_a', at: atA, type: 'payment.updated', data: { id: 'live_a', status: 'captured' } }]);
    const atB = next();
    await insertChanges(pool(), [{ topic: 'payment:live_b', at: atB }]);

    await a.waitFor((c) => c.length === 1, 'a: its change');
    // b's change comes after a's in id order: once b has it, a would have had b's too.
    await b.waitFor((c) => c.length === 1, 'b: its change');
    expect(a.changes).toEqual([{ topic: 'payment:live_a', type: 'payment.updated', position: pos(atA), data: { id: 'live_a', status: 'captured' } }]);
    expect(b.positions('payment:live_b')).toEqual([pos(atB)]);
    expect(b.changes).toHaveLength(1);
  });

  it('with since: sends the backlog before the ack, then live changes, each once, in order', async () => {
    const topic = 'payment:since_1';
    const written: number[] = [];
    for (let i = 0; i < 5; i++) {
      const at = next();
      written.push(at);
      await insertChanges(pool(), [
        { topic, at },
        { topic: 'payment:since_other', at },
      ]);
    }
    const c = await client();
    expect(await c.subscribe({ topics: [topic], since: pos(written[1]!) })).toEqual({ ok: true });
    // The ack follows the backlog on the same connection.
    expect(c.positions(topic)).toEqual(written.slice(2).map(pos));

    const live = [next(), next()];
    await insertChanges(pool(), [{ topic, at: live[0]! }]);
    await insertChanges(pool(), [{ topic, at: live[1]! }]);
    await c.waitFor((ch) => ch.length === 5, 'backlog + live');
    expect(c.positions(topic)).toEqual([...written.slice(2), ...live].map(pos));
    expect(c.changes.every((ch) => ch.topic === topic)).toBe(true);
  });

  it('with since: no gap and no duplicate while the runner keeps writing', async () => {
    const topic = 'payment:race';
    const other = 'payment:race_other';
    const committed: number[] = [];
    const early = await client();
    expect(await early.subscribe({ topics: [topic] })).toEqual({ ok: true });

    const total = 400;
    const writer = (async () => {
      for (let i = 0; i < total; i++) {
        const at = next();
        // Mostly single rows, sometimes a batch with a row for another topic in between.
        const batch = i % 7 === 0 ? [{ topic, at }, { topic: other, at }] : [{ topic, at }];
        await insertChanges(pool(), batch);
        committed.push(at);
      }
    })();

    // Subscribers arrive while rows are committed, each "having seen" a recent position.
    const late: Array<{ c: TestClient; since: number }> = [];
    for (let k = 0; k < 10; k++) {
      await sleep(15 + ((k * 7) % 20));
      const seen = committed.length > 0 ? committed[Math.max(0, committed.length - 1 - ((k * 13) % 40))]! : 0;
      const c = await client();
      const ack = await c.subscribe({ topics: [topic], since: pos(seen) });
      expect(ack).toEqual({ ok: true });
      late.push({ c, since: seen });
    }
    await writer;
    const last = committed[committed.length - 1]!;

    await early.waitFor((ch) => ch.at(-1)?.position === pos(last), 'early: last change', 10_000);
    expect(early.positions(topic)).toEqual(committed.map(pos));
    for (const { c, since } of late) {
      await c.waitFor((ch) => ch.at(-1)?.position === pos(last), `since ${since}: last change`, 10_000);
      expect(c.positions(topic)).toEqual(committed.filter((at) => at > since).map(pos));
      expect(c.changes.every((ch) => ch.topic === topic)).toBe(true);
    }
  });

  it('holds later ids back until an earlier, slower transaction commits (two projections)', async () => {
    const topic = 'payment:two_writers';
    const live = await client();
    expect(await live.subscribe({ topics: [topic] })).toEqual({ ok: true });
    const before = next();
    await insertChanges(pool(), [{ topic, at: before }]);
    await live.waitFor((c) => c.length === 1, 'first change');

    // Projection A takes the lower id and is slow to commit; projection B commits first.
    const slow = await pool().connect();
    try {
      await slow.query('BEGIN');
      const atSlow = next();
      await insertChanges(slow, [{ topic, at: atSlow }], false);
      const atFast = next();
      await insertChanges(pool(), [{ topic, at: atFast }]);
      await sleep(300);
      expect(live.positions(topic)).toEqual([pos(before)]);

      // A subscriber with since arrives meanwhile; its ack must wait for the slow row too.
      const resumer = await client();
      const ack = resumer.subscribe({ topics: [topic], since: pos(before) });

      await slow.query(`SELECT pg_notify('ledger_changes', '')`);
      await slow.query('COMMIT');
      expect(await ack).toEqual({ ok: true });
      expect(resumer.positions(topic)).toEqual([pos(atSlow), pos(atFast)]);
      await live.waitFor((c) => c.length === 3, 'both changes');
      expect(live.positions(topic)).toEqual([pos(before), pos(atSlow), pos(atFast)]);

      // A transaction that rolls back leaves a hole for good; delivery goes on past it.
      await slow.query('BEGIN');
      await insertChanges(slow, [{ topic, at: next() }], false);
      const afterHole = next();
      await insertChanges(pool(), [{ topic, at: afterHole }]);
      await slow.query('ROLLBACK');
      await live.waitFor((c) => c.length === 4, 'the change after the rolled-back one');
      expect(live.positions(topic).at(-1)).toBe(pos(afterHole));
    } finally {
      slow.release();
    }
  });

  it('without an authenticator: connects with or without a token and follows any well-formed topic', async () => {
    const anonymous = await client();
    const withToken = await TestClient.connect(url, { token: 'whatever' });
    clients.push(withToken);
    for (const c of [anonymous, withToken]) {
      expect(await c.subscribe({ topics: ['payment:anon', 'customer:anon', 'ledger'] })).toEqual({ ok: true });
      expect(await c.subscribe({ topics: ['anything_else:x'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic: "anything_else:x": unknown kind/) });
    }
  });

  it('answers invalid requests with { ok: false, error }', async () => {
    const invalid: unknown[] = [
      undefined,
      null,
      'payment:x',
      {},
      { topics: 'payment:x' },
      { topics: [] },
      { topics: ['payment:x'], since: 'yesterday' },
      { topics: ['payment:x'], since: 5 },
      { topics: ['payment:x'], extra: true },
    ];
    // Every request spends a token, valid or not: a fresh socket per few requests.
    let c = await client();
    for (const [i, payload] of invalid.entries()) {
      if (i % 5 === 4) c = await client();
      const ack = await c.subscribe(payload);
      expect(ack.ok, JSON.stringify(payload)).toBe(false);
      if (!ack.ok) expect(ack.error).toMatch(/^invalid_request: \S/);
    }
    c = await client();
    for (const topics of [['Payment:x'], ['payment:has space']]) {
      expect(await c.subscribe({ topics })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic: \S/) });
    }
    c = await client();
    const noPayload = (await c.socket.timeout(5_000).emitWithAck('subscribe')) as { ok: boolean; error?: string };
    expect(noPayload).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_request/) });
    expect(await c.unsubscribe({ topics: ['ledger'], since: '1.1' })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_request/) });
    expect(await c.unsubscribe({ topics: [] })).toMatchObject({ ok: false });
  });

  it('disconnects a client that sends more than 16 KiB in one message', async () => {
    const c = await client();
    const disconnected = new Promise<string>((resolve) => c.socket.once('disconnect', resolve));
    c.socket.emit('subscribe', { topics: ['ledger'], padding: 'x'.repeat(20 * 1024) });
    expect(await disconnected).toBe('transport close');
  });

  it('refuses more than 50 topics per connection', async () => {
    const c = await client();
    const topics = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `customer:${prefix}${i}`);
    expect(await c.subscribe({ topics: topics('a', 51) })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_request/) });
    expect(await c.subscribe({ topics: topics('a', 30) })).toEqual({ ok: true });
    expect(await c.subscribe({ topics: topics('b', 21) })).toMatchObject({ ok: false, error: expect.stringMatching(/^too_many_topics/) });
    expect(await c.subscribe({ topics: [...topics('a', 30), ...topics('b', 20)] })).toEqual({ ok: true }); // 30 already held
    expect(await c.subscribe({ topics: ['customer:one_more'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^too_many_topics/) });
    // Room is made by unsubscribing.
    expect(await c.unsubscribe({ topics: ['customer:a0'] })).toEqual({ ok: true });
    expect(await c.subscribe({ topics: ['customer:one_more'] })).toEqual({ ok: true });

    // The refused topics were not joined.
    const at = next();
    await insertChanges(pool(), [
      { topic: 'customer:b20', at },
      { topic: 'customer:a0', at },
      { topic: 'customer:one_more', at },
    ]);
    await c.waitFor((ch) => ch.length === 1, 'the one subscribed topic');
    await sleep(100);
    expect(c.changes.map((ch) => ch.topic)).toEqual(['customer:one_more']);
  });

  it('does not deliver a topic after a refused subscribe', async () => {
    const c = await client();
    expect((await c.subscribe({ topics: ['payment:refused'], since: 'not-a-position' })).ok).toBe(false);
    expect(await c.subscribe({ topics: ['payment:sentinel'] })).toEqual({ ok: true });
    const at = next();
    await insertChanges(pool(), [{ topic: 'payment:refused', at }]);
    await insertChanges(pool(), [{ topic: 'payment:sentinel', at: next() }]);
    await c.waitFor((ch) => ch.length >= 1, 'sentinel');
    expect(c.changes.map((ch) => ch.topic)).toEqual(['payment:sentinel']);
  });

  it('stops delivering a topic after unsubscribe', async () => {
    const c = await client();
    expect(await c.subscribe({ topics: ['payment:unsub_1', 'payment:unsub_2'] })).toEqual({ ok: true });
    expect(await c.unsubscribe({ topics: ['payment:unsub_1', 'payment:never_subscribed'] })).toEqual({ ok: true });
    await insertChanges(pool(), [{ topic: 'payment:unsub_1', at: next() }]);
    const at = next();
    await insertChanges(pool(), [{ topic: 'payment:unsub_2', at }]);
    await c.waitFor((ch) => ch.length >= 1, 'the still-subscribed topic');
    expect(c.changes.map((ch) => ch.position)).toEqual([pos(at)]);
  });

  it('rate-limits subscribe requests per socket', async () => {
    const c = await client();
    const acks = await Promise.all(Array.from({ length: 16 }, (_, i) => c.subscribe({ topics: [`payment:rate_${i}`] })));
    expect(acks.slice(0, 10).every((a) => a.ok)).toBe(true);
    const limited = acks.filter((a) => !a.ok && a.error.startsWith('rate_limited'));
    expect(limited.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a backlog larger than the limit, and serves a smaller one', async () => {
    const topic = 'ledger';
    const start = lastPosition;
    const rows = Array.from({ length: MAX_BACKLOG + 5 }, () => ({ topic, at: next() }));
    // Until the tailer has passed them, new rows reach a subscriber through its (separately
    // bounded) live buffer rather than the backlog query: wait for a live watcher to see them.
    const watcher = await client();
    expect(await watcher.subscribe({ topics: [topic] })).toEqual({ ok: true });
    await insertChanges(pool(), rows);
    await watcher.waitFor((ch) => ch.length === rows.length, 'the tailer to pass the rows');
    const c = await client();
    const refused = await c.subscribe({ topics: [topic], since: pos(start) });
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/^backlog_too_large/) });
    expect(c.changes).toEqual([]);
    const since = rows[rows.length - 4]!.at;
    expect(await c.subscribe({ topics: [topic], since: pos(since) })).toEqual({ ok: true });
    expect(c.positions(topic)).toEqual(rows.slice(-3).map((r) => pos(r.at)));
  });

  it('two instances on one database each deliver to their own clients', async () => {
    const second = await listen();
    const secondPool = createPool({ connectionString: db!.url, max: 5, applicationName: 'test-realtime-2' });
    const other = attachRealtime(second.server, { pool: secondPool, retention: false });
    try {
      await other.ready;
      const topic = 'payment:two_instances';
      const first = await client();
      const onSecond = await client(second.url);
      const resumer = await client(second.url);
      expect(await first.subscribe({ topics: [topic] })).toEqual({ ok: true });
      expect(await onSecond.subscribe({ topics: [topic] })).toEqual({ ok: true });
      const before = next();
      await insertChanges(pool(), [{ topic, at: before }]);
      // Has seen nothing of this topic yet; may get `before` from the backlog or live.
      expect(await resumer.subscribe({ topics: [topic], since: pos(before - 1) })).toEqual({ ok: true });

      const live = [next(), next(), next()];
      for (const at of live) await insertChanges(pool(), [{ topic, at }]);
      for (const c of [first, onSecond, resumer]) await c.waitFor((ch) => ch.at(-1)?.position === pos(live[2]!), 'last live change');
      await sleep(100);
      for (const c of [first, onSecond, resumer]) expect(c.positions(topic)).toEqual([before, ...live].map(pos));
    } finally {
      await other.close();
      await closeHttp(second.server);
      await secondPool.end();
    }
  });
});

describe('realtime: retention and the LISTEN connection', () => {
  let db: TestDatabase | undefined;
  let server: HttpServer | undefined;
  let realtime: RealtimeHandle | undefined;
  let url = '';
  const clients: TestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('realtime_ops');
    await migrate(db.pool, realtimeMigrations);
  });

  afterAll(() => tearDownRealtime({ clients, realtime, server, db }));

  it('prunes rows older than the retention period in chunks, and refuses a since it can no longer serve', async () => {
    const pool = db!.pool;
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString();
    await insertChanges(pool, [1, 2, 3].map((at) => ({ topic: 'payment:old', at, createdAt: eightDaysAgo })));
    await insertChanges(pool, [4, 5].map((at) => ({ topic: 'payment:old', at })));

    expect(await pruneChanges({ pool, logger: silent, chunkSize: 2 })).toBe(3);
    const left = await pool.query<{ at: string }>('SELECT position_commit::text AS at FROM realtime_changes ORDER BY id');
    expect(left.rows.map((r) => r.at)).toEqual(['4', '5']);
    expect(await pruneChanges({ pool, logger: silent })).toBe(0);

    ({ server, url } = await listen());
    realtime = attachRealtime(server, { pool, retention: false, feed: { pollIntervalMs: 30_000 } });
    await realtime.ready;
    const c = await TestClient.connect(url);
    clients.push(c);
    expect(await c.subscribe({ topics: ['payment:old'], since: pos(1) })).toMatchObject({ ok: false, error: expect.stringMatching(/^since_too_old/) });
    expect(await c.subscribe({ topics: ['payment:old'], since: pos(4) })).toEqual({ ok: true });
    expect(c.positions('payment:old')).toEqual([pos(5)]);
  });

  it('reconnects LISTEN after the connection is killed (polling is 30 s here, so delivery proves it)', async () => {
    const pool = db!.pool;
    const listenerPids = async (): Promise<number[]> =>
      (
        await pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'ledger-realtime-listener'`,
        )
      ).rows.map((r) => r.pid);
    const pidsUntil = async (check: (pids: number[]) => boolean, what: string): Promise<number[]> => {
      for (let i = 0; i < 250; i++) {
        const pids = await listenerPids();
        if (check(pids)) return pids;
        await sleep(20);
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    const [old] = await pidsUntil((pids) => pids.length === 1, 'the listener connection');
    await pool.query('SELECT pg_terminate_backend($1)', [old]);
    await pidsUntil((pids) => pids.length === 1 && pids[0] !== old, 'a new listener connection');

    const c = await TestClient.connect(url);
    clients.push(c);
    expect(await c.subscribe({ topics: ['payment:after_reconnect'] })).toEqual({ ok: true });
    await insertChanges(pool, [{ topic: 'payment:after_reconnect', at: 10 }]);
    await c.waitFor((ch) => ch.length === 1, 'a change woken by NOTIFY', 3_000);
  });
});

const ignore = (): void => undefined;
const silent = { debug: ignore, info: ignore, warn: ignore, error: ignore };
