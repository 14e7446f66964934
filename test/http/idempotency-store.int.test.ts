import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PRUNE_BATCHES, PostgresIdempotencyStore } from '../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
import { idempotencyMigrations } from '../../src/infrastructure/postgres/idempotency/schema.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('http_idem_store');
  await migrate(db.pool, idempotencyMigrations);
});
afterAll(async () => {
  await db?.drop();
});

const response = { status: 201, headers: { 'content-type': 'application/json', etag: '"0"' }, body: Buffer.from('{"a":1}') };

describe('PostgresIdempotencyStore', () => {
  it('begin → complete → replay; other hash → mismatch', async () => {
    const store = new PostgresIdempotencyStore(db.pool);
    const scope = { actor: 'anonymous', key: 'k1' };
    const begun = await store.begin(scope, 'h1');
    expect(begun.kind).toBe('started');
    if (begun.kind !== 'started') return;
    expect(await store.begin(scope, 'h1')).toEqual({ kind: 'in_flight', leaseLeftMs: expect.any(Number) });
    expect(await store.begin(scope, 'h2')).toEqual({ kind: 'mismatch' });
    await store.complete(scope, begun.lease, response);
    const replay = await store.begin(scope, 'h1');
    expect(replay.kind).toBe('replay');
    if (replay.kind !== 'replay') return;
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers).toEqual(response.headers);
    expect(Buffer.from(replay.response.body).toString()).toBe('{"a":1}');
  });

  it('scopes keys by actor', async () => {
    const store = new PostgresIdempotencyStore(db.pool);
    expect((await store.begin({ actor: 'a', key: 'shared' }, 'h')).kind).toBe('started');
    expect((await store.begin({ actor: 'b', key: 'shared' }, 'other')).kind).toBe('started');
  });

  it('a lapsed lease lets a retry take over, keeping the first-seen time; the old lease can no longer complete', async () => {
    const store = new PostgresIdempotencyStore(db.pool, { leaseMs: 50 });
    const scope = { actor: 'anonymous', key: 'crashy' };
    const first = await store.begin(scope, 'h');
    if (first.kind !== 'started') throw new Error('expected started');
    await new Promise((r) => setTimeout(r, 120));
    const second = await store.begin(scope, 'h');
    if (second.kind !== 'started') throw new Error(`expected takeover, got ${second.kind}`);
    expect(second.firstSeenAt.getTime()).toBe(first.firstSeenAt.getTime());
    expect(second.lease).not.toBe(first.lease);
    // The first attempt may have written before it stopped: the takeover must look.
    expect(first.firstAttempt).toBe(true);
    expect(second.firstAttempt).toBe(false);
    await store.complete(scope, first.lease, { ...response, status: 500 });
    await store.complete(scope, second.lease, response);
    const replay = await store.begin(scope, 'h');
    expect(replay.kind === 'replay' && replay.response.status).toBe(201);
  });

  it('a lapsed lease does not free the key for another request', async () => {
    const store = new PostgresIdempotencyStore(db.pool, { leaseMs: 10 });
    const scope = { actor: 'anonymous', key: 'crashy-2' };
    await store.begin(scope, 'h');
    await new Promise((r) => setTimeout(r, 40));
    expect(await store.begin(scope, 'other')).toEqual({ kind: 'mismatch' });
  });

  it('release frees the key at once, for the same request only', async () => {
    const store = new PostgresIdempotencyStore(db.pool);
    const scope = { actor: 'anonymous', key: 'released' };
    const first = await store.begin(scope, 'h');
    if (first.kind !== 'started') throw new Error('expected started');
    await store.release(scope, first.lease);
    expect(await store.begin(scope, 'other')).toEqual({ kind: 'mismatch' });
    const retry = await store.begin(scope, 'h');
    expect(retry.kind).toBe('started');
    if (retry.kind === 'started') expect(retry.firstSeenAt.getTime()).toBe(first.firstSeenAt.getTime());
    expect(retry.kind === 'started' && retry.firstAttempt).toBe(false);
  });

  it('concurrent begins: exactly one starts', async () => {
    const store = new PostgresIdempotencyStore(db.pool);
    const scope = { actor: 'anonymous', key: 'race' };
    const results = await Promise.all(Array.from({ length: 10 }, () => store.begin(scope, 'h')));
    expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(9);
  });

  it('expired records are forgotten (the key starts afresh) and pruned', async () => {
    const store = new PostgresIdempotencyStore(db.pool, { retentionMs: 30 });
    const scope = { actor: 'anonymous', key: 'old' };
    const first = await store.begin(scope, 'h');
    if (first.kind !== 'started') throw new Error('expected started');
    await store.complete(scope, first.lease, response);
    await new Promise((r) => setTimeout(r, 60));
    const again = await store.begin(scope, 'another body');
    expect(again.kind).toBe('started');
    if (again.kind === 'started') expect(again.firstSeenAt.getTime()).toBeGreaterThan(first.firstSeenAt.getTime());
    // A new first-seen time derives new ids: nothing can have been written under them.
    expect(again.kind === 'started' && again.firstAttempt).toBe(true);

    await store.begin({ actor: 'anonymous', key: 'old-2' }, 'h');
    await new Promise((r) => setTimeout(r, 60));
    const pruned = await store.pruneExpired(1);
    expect(pruned.kind).toBe('done');
    expect(pruned.deleted).toBeGreaterThanOrEqual(2);
    const left = await db.pool.query(`SELECT key FROM idempotency_keys WHERE key IN ('old', 'old-2')`);
    expect(left.rowCount).toBe(0);
  });

  it('the lease is short (5 s by default) and in_flight says how much of it is left, by the database clock', async () => {
    const store = new PostgresIdempotencyStore(db.pool);
    const scope = { actor: 'anonymous', key: 'lease-left' };
    expect((await store.begin(scope, 'h')).kind).toBe('started');
    await db.pool.query(`UPDATE idempotency_keys SET locked_until = now() + interval '2300 milliseconds' WHERE key = 'lease-left'`);
    const busy = await store.begin(scope, 'h');
    if (busy.kind !== 'in_flight') throw new Error(`expected in_flight, got ${busy.kind}`);
    expect(busy.leaseLeftMs).toBeGreaterThan(2_000);
    expect(busy.leaseLeftMs).toBeLessThanOrEqual(2_300);

    const fresh = { actor: 'anonymous', key: 'lease-fresh' };
    expect((await store.begin(fresh, 'h')).kind).toBe('started');
    const row = await db.pool.query<{ ms: number }>(`SELECT (EXTRACT(EPOCH FROM (locked_until - now())) * 1000)::int AS ms FROM idempotency_keys WHERE key = 'lease-fresh'`);
    expect(row.rows[0]!.ms).toBeGreaterThan(4_000);
    expect(row.rows[0]!.ms).toBeLessThanOrEqual(5_000);
    expect(store.renewEveryMs).toBe(1_500);
  });

  it('renewing keeps a held key past its lease length; a lost lease cannot be renewed', async () => {
    const store = new PostgresIdempotencyStore(db.pool, { leaseMs: 400 });
    const scope = { actor: 'anonymous', key: 'renewed' };
    const held = await store.begin(scope, 'h');
    if (held.kind !== 'started') throw new Error('expected started');
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      expect(await store.renew(scope, held.lease)).toBe(true);
    }
    // 900 ms after the claim, over twice the lease length: still held thanks to the renewals.
    expect((await store.begin(scope, 'h')).kind).toBe('in_flight');

    await new Promise((r) => setTimeout(r, 500));
    const takeover = await store.begin(scope, 'h');
    expect(takeover.kind).toBe('started');
    expect(await store.renew(scope, held.lease)).toBe(false);
  });

  it('pruning stops after a bounded number of batches and says there is more', async () => {
    const store = new PostgresIdempotencyStore(db.pool, { retentionMs: 1 });
    await db.pool.query(`DELETE FROM idempotency_keys`);
    const rows = MAX_PRUNE_BATCHES + 5;
    await db.pool.query(
      `INSERT INTO idempotency_keys (actor, key, request_hash, state, locked_until, expires_at)
       SELECT 'anonymous', 'bulk-' || i, 'h', 'in_flight', now(), now() - interval '1 second' FROM generate_series(1, $1) AS i`,
      [rows],
    );
    expect(await store.pruneExpired(1)).toEqual({ kind: 'batch_limit_reached', deleted: MAX_PRUNE_BATCHES });
    expect(await store.pruneExpired(1)).toEqual({ kind: 'done', deleted: 5 });
  });
});
