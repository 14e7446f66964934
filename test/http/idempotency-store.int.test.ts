import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIdempotencyStore } from '../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
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
    expect(await store.begin(scope, 'h1')).toEqual({ kind: 'in_flight' });
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

    await store.begin({ actor: 'anonymous', key: 'old-2' }, 'h');
    await new Promise((r) => setTimeout(r, 60));
    const pruned = await store.pruneExpired(1);
    expect(pruned).toBeGreaterThanOrEqual(2);
    const left = await db.pool.query(`SELECT key FROM idempotency_keys WHERE key IN ('old', 'old-2')`);
    expect(left.rowCount).toBe(0);
  });
});
