import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/infrastructure/postgres/all-migrations.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { pruneFinishedDeliveries } from '../../src/infrastructure/postgres/webhooks/webhook-delivery-retention.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * Retention of the outbound delivery log: finished deliveries older than the retention go,
 * with their attempt rows, in bounded batches; pending and claimed ones stay whatever
 * their age. Timestamps are explicit, `now` is passed in: no waiting, no wall clock.
 */

const DAY = 24 * 3_600_000;
const NOW = new Date('2026-03-31T12:00:00.000Z');
const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY);

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('webhooks_retention');
  await migrate(db.pool, allMigrations);
  await db.pool.query(
    `INSERT INTO webhook_endpoints (id, url, events, status, secrets, after_commit, after_prepare, created_by, created_at, updated_at)
     VALUES ('we_r', 'http://127.0.0.1/x', '{payment.*}', 'enabled', '[]', 0, 0, 'test', $1, $1)`,
    [ago(90)],
  );
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query('DELETE FROM webhook_deliveries');
});

let n = 0;
async function delivery(status: 'pending' | 'succeeded' | 'failed', finishedAt: Date, options: { attempts?: number; leasedUntil?: Date } = {}): Promise<string> {
  const id = `wd_${++n}`;
  const attempts = options.attempts ?? 2;
  await db.pool.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, lease_holder, lease_expires_at, created_at, updated_at)
     VALUES ($1, 'we_r', gen_random_uuid(), 'payment.succeeded', '{}', $2, $3, $4, $5, $6, $7, $4)`,
    [id, status, attempts, finishedAt, options.leasedUntil ? 'someone' : null, options.leasedUntil ?? null, new Date(finishedAt.getTime() - DAY)],
  );
  for (let a = 1; a <= attempts; a++) {
    await db.pool.query(`INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, latency_ms) VALUES ($1, $2, $3, 500, 10)`, [id, a, finishedAt]);
  }
  return id;
}

const remaining = async (): Promise<string[]> => (await db.pool.query<{ id: string }>('SELECT id FROM webhook_deliveries ORDER BY seq')).rows.map((r) => r.id);
const attemptsOf = async (ids: readonly string[]): Promise<number> =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_delivery_attempts WHERE delivery_id = ANY($1)', [ids])).rows[0]!.n;

describe('pruning finished webhook deliveries', () => {
  it('deletes succeeded and given-up deliveries finished before the retention, with their attempts; keeps recent, pending and claimed ones', async () => {
    const oldSucceeded = await delivery('succeeded', ago(31));
    const oldFailed = await delivery('failed', ago(45), { attempts: 17 });
    const oldPending = await delivery('pending', ago(60));
    const recentSucceeded = await delivery('succeeded', ago(29));
    const recentFailed = await delivery('failed', ago(5));
    // A manual re-send holds it right now: not deleted under the sender's feet.
    const claimed = await delivery('failed', ago(40), { leasedUntil: new Date(NOW.getTime() + 60_000) });
    // A re-send that died long ago left an expired lease: that no longer protects it.
    const lapsed = await delivery('succeeded', ago(40), { leasedUntil: ago(39) });

    expect(await pruneFinishedDeliveries(sqlExecutor(db.pool), NOW, 30)).toBe(3);

    expect(await remaining()).toEqual([oldPending, recentSucceeded, recentFailed, claimed]);
    expect(await attemptsOf([oldSucceeded, oldFailed, lapsed])).toBe(0);
    expect(await attemptsOf([oldPending, recentSucceeded, recentFailed, claimed])).toBe(8);
  });

  it('works through a backlog in batches of the given size', async () => {
    const old = [];
    for (let i = 0; i < 7; i++) old.push(await delivery('succeeded', ago(31 + i), { attempts: 1 }));
    const kept = await delivery('succeeded', ago(1), { attempts: 1 });

    expect(await pruneFinishedDeliveries(sqlExecutor(db.pool), NOW, 30, 3)).toBe(7);
    expect(await remaining()).toEqual([kept]);
  });

  it('refuses a retention that is not a positive whole number of days', async () => {
    await expect(pruneFinishedDeliveries(sqlExecutor(db.pool), NOW, 0)).rejects.toThrow(/retention/);
  });
});
