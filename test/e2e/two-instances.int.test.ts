import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

let db: TestDatabase;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  db = await createTestDatabase('two_instances');
  [a, b] = await Promise.all([startTestService(db.url), startTestService(db.url)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

const create = async (service: RunningService, i: number) =>
  fetch(`${service.url}/v1/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await authHeader()) },
    body: JSON.stringify({ customerId: `cus_${i % 3}`, amount: 100 + i, currency: 'USD', paymentMethod: 'pm_card_visa' }),
  });

describe('two service instances on one database', () => {
  it('apply every event exactly once: one leader, one change row per event and topic', async () => {
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i % 2 === 0 ? a : b, i)));
    expect(responses.map((r) => r.status)).toEqual(Array(40).fill(201));
    const positions = responses.map((r) => r.headers.get('ledger-position')!);
    const last = positions.sort((x, y) => {
      const [xc, xp] = x.split('.').map(BigInt) as [bigint, bigint];
      const [yc, yp] = y.split('.').map(BigInt) as [bigint, bigint];
      return xc === yc ? Number(xp - yp) : Number(xc - yc);
    }).at(-1)!;
    // Both instances can serve the read-your-writes query, whichever runs the projection.
    for (const s of [a, b]) {
      const res = await fetch(`${s.url}/v1/payments?limit=100&minPosition=${last}`, { headers: await authHeader() });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(40);
    }
    // Automatic capture, intent first: 3 events per payment (request, authorization, capture), 2 topics per change.
    const events = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
    expect(Number(events.rows[0]!.n)).toBe(120);
    const changes = await db.pool.query<{ n: string; distinct_n: string }>(
      `SELECT count(*) AS n, count(DISTINCT (topic, position_commit, position_prepare)) AS distinct_n FROM realtime_changes WHERE projection = 'payments'`,
    );
    expect(Number(changes.rows[0]!.n)).toBe(240);
    expect(Number(changes.rows[0]!.distinct_n)).toBe(240);
    // The ledger too: one entry (and one `ledger` change) per capture, whichever instance leads it.
    for (const s of [a, b]) {
      const res = await fetch(`${s.url}/v1/ledger/trial-balance?minPosition=${last}`, { headers: await authHeader() });
      expect(res.status).toBe(200);
      const total = Array.from({ length: 40 }, (_, i) => 100 + i).reduce((x, y) => x + y, 0);
      expect(((await res.json()) as { data: unknown[] }).data).toEqual([{ currency: 'USD', debits: total, credits: total }]);
    }
    const ledgerChanges = await db.pool.query<{ n: string; distinct_n: string }>(
      `SELECT count(*) AS n, count(DISTINCT (position_commit, position_prepare)) AS distinct_n FROM realtime_changes WHERE topic = 'ledger'`,
    );
    expect(ledgerChanges.rows[0]).toEqual({ n: '40', distinct_n: '40' });
    const payments = await db.pool.query<{ n: string; captured: string }>(
      `SELECT count(*) AS n, sum(amount_captured) AS captured FROM rm_payments.payments`,
    );
    expect(Number(payments.rows[0]!.n)).toBe(40);
    expect(Number(payments.rows[0]!.captured)).toBe(Array.from({ length: 40 }, (_, i) => 100 + i).reduce((x, y) => x + y, 0));

    // The activity feed too: its own loop, one leader, every entry once, readable on both instances.
    for (const s of [a, b]) {
      let seen = 0;
      for (const customer of ['cus_0', 'cus_1', 'cus_2']) {
        const res = await fetch(`${s.url}/v1/customers/${customer}/activity?limit=100&minPosition=${last}`, { headers: await authHeader() });
        expect(res.status).toBe(200);
        seen += ((await res.json()) as { data: unknown[] }).data.length;
      }
      expect(seen).toBe(80);
    }
    const entries = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM activity_entries WHERE generation = (SELECT live FROM activity_feed_state)');
    expect(Number(entries.rows[0]!.n)).toBe(80);

    const status = (await (await fetch(`${a.url}/v1/admin/projections`, { headers: await authHeader() })).json()) as { data: { leader: string | null; status: string }[] };
    expect(status.data[0]?.leader).not.toBeNull();
  });
});
