import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { subscriptionMetricsProjection } from '../../src/projections/subscription-metrics/subscription-metrics-projection.js';
import { MRR_EXPECTED, TEST_CLOCK_ID, writeMrrScenario } from '../projections/support/mrr-scenario.js';
import type { Harness } from './support/harness.js';
import { startHarness } from './support/harness.js';

/*
 * GET /v1/reports/mrr and /v1/reports/mrr/history through the real app, over the real
 * subscription metrics read model: subscription commands written to the harness's
 * PostgreSQL event store, projected into rm_subscription_metrics, read by the real queries.
 */

let h: Harness;
let reader: string;

/** Runs the projection over `events`, as the runner would (schema rm_subscription_metrics). */
async function project(events: readonly RecordedEvent[]): Promise<void> {
  const client = await h.db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE SCHEMA IF NOT EXISTS rm_subscription_metrics');
    await client.query('SET LOCAL search_path TO rm_subscription_metrics');
    await client.query(subscriptionMetricsProjection.schemaSql);
    await subscriptionMetricsProjection.applyBatch!(sqlExecutor(client), events.filter((e) => subscriptionMetricsProjection.eventTypes.includes(e.type)));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

const get = (path: string, token?: string | null) => h.request('GET', path, { token: token === undefined ? reader : token });

beforeAll(async () => {
  h = await startHarness('http_mrr');
  reader = await h.token({ scopes: ['reports:read'] });
  await project(await writeMrrScenario(h.store));
});

afterAll(async () => {
  await h?.close();
});

describe('GET /v1/reports/mrr', () => {
  it('answers MRR, ARR and counts per currency at asOf', async () => {
    for (const key of ['jan20', 'jan31', 'feb05', 'feb20'] as const) {
      const expected = MRR_EXPECTED[key];
      const res = await get(`/v1/reports/mrr?asOf=${expected.asOf}`);
      expect(res.status, key).toBe(200);
      expect(res.json, key).toEqual({ asOf: new Date(expected.asOf).toISOString(), data: expected.data });
    }
    // Keys in the documented order.
    const res = await get('/v1/reports/mrr?asOf=2026-01-20T12:00:00Z');
    expect(res.text).toMatch(/^\{"asOf":"2026-01-20T12:00:00\.000Z","data":\[\{"currency":"EUR","mrr":2500,"arr":30000,"active":1,"trialing":0,"pastDue":0,"churnedThisMonth":0\}/);
  });

  it('defaults asOf to now, and takes a currency in either case (a row for it even when empty)', async () => {
    const before = Date.now();
    const now = await get('/v1/reports/mrr');
    expect(now.status).toBe(200);
    const body = now.json as { asOf: string; data: unknown[] };
    expect(Date.parse(body.asOf)).toBeGreaterThanOrEqual(before);
    // Since March: A and B in USD, D at its new price in EUR.
    expect(body.data).toEqual([
      { currency: 'EUR', mrr: 3_000, arr: 36_000, active: 1, trialing: 0, pastDue: 0, churnedThisMonth: 0 },
      { currency: 'USD', mrr: 2_000, arr: 24_000, active: 2, trialing: 0, pastDue: 0, churnedThisMonth: 0 },
    ]);
    const eur = await get('/v1/reports/mrr?asOf=2026-01-31T23:59:59.999Z&currency=eur');
    expect(eur.json).toEqual({ asOf: '2026-01-31T23:59:59.999Z', data: [MRR_EXPECTED.jan31.data[0]] });
    const jpy = await get('/v1/reports/mrr?asOf=2026-01-31T00:00:00Z&currency=JPY');
    expect(jpy.json).toEqual({ asOf: '2026-01-31T00:00:00.000Z', data: [{ currency: 'JPY', mrr: 0, arr: 0, active: 0, trialing: 0, pastDue: 0, churnedThisMonth: 0 }] });
  });

  it('leaves test-clock subscriptions out unless testClock names their clock, and then reports only them', async () => {
    for (const key of ['clockJan10', 'clockJan31'] as const) {
      const expected = MRR_EXPECTED[key];
      const res = await get(`/v1/reports/mrr?asOf=${expected.asOf}&testClock=${TEST_CLOCK_ID}`);
      expect(res.json, key).toEqual({ asOf: new Date(expected.asOf).toISOString(), data: expected.data });
    }
    // On the real clock the same instant shows no 9,999 and no January churn.
    const real = await get('/v1/reports/mrr?asOf=2026-01-10T00:00:00Z');
    expect(real.json).toEqual({ asOf: '2026-01-10T00:00:00.000Z', data: [{ currency: 'USD', mrr: 1_000, arr: 12_000, active: 1, trialing: 1, pastDue: 0, churnedThisMonth: 0 }] });
  });
});

describe('GET /v1/reports/mrr/history', () => {
  it('answers one row per month and currency, each month at its end, across a price change', async () => {
    const res = await get('/v1/reports/mrr/history?from=2026-01&to=2026-03&asOf=2026-03-15T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ from: '2026-01', to: '2026-03', asOf: '2026-03-15T00:00:00.000Z', data: MRR_EXPECTED.history });
    const usd = await get('/v1/reports/mrr/history?from=2025-12&to=2026-02&currency=usd&asOf=2026-03-15T00:00:00Z');
    expect((usd.json as { data: { month: string; mrr: number; churnedThisMonth: number }[] }).data.map((r) => [r.month, r.mrr, r.churnedThisMonth])).toEqual([
      ['2025-12', 0, 0],
      ['2026-01', 3_133, 0],
      ['2026-02', 2_000, 1],
    ]);
    const clock = await get(`/v1/reports/mrr/history?from=2026-01&to=2026-02&testClock=${TEST_CLOCK_ID}&asOf=2026-02-01T00:00:00Z`);
    expect((clock.json as { data: { month: string; mrr: number; churnedThisMonth: number }[] }).data.map((r) => [r.month, r.mrr, r.churnedThisMonth])).toEqual([['2026-01', 0, 1]]);
  });
});

describe('the MRR reports refuse', () => {
  it('bad input with 400 problem+json, naming the parameter', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v1/reports/mrr?asOf=yesterday', 'asOf', /ISO 8601/],
      ['/v1/reports/mrr?asOf=2026-01-31', 'asOf', /ISO 8601/],
      ['/v1/reports/mrr?currency=dollars', 'currency', /three letters/],
      ['/v1/reports/mrr?currency=ZZZ', 'currency', /ISO 4217/],
      ['/v1/reports/mrr?testClock=clock_nope', 'testClock', /test clock id/],
      ['/v1/reports/mrr?from=2026-01', 'from', /not a known field/],
      ['/v1/reports/mrr/history?to=2026-01', 'from', /./],
      ['/v1/reports/mrr/history?from=2026-01', 'to', /./],
      ['/v1/reports/mrr/history?from=2026-13&to=2027-01', 'from', /YYYY-MM/],
      ['/v1/reports/mrr/history?from=2026-1&to=2026-02', 'from', /YYYY-MM/],
      ['/v1/reports/mrr/history?from=0000-12&to=2026-02', 'from', /from 0001-01 on/],
      ['/v1/reports/mrr/history?from=2026-03&to=2026-02', 'to', /same month as from or later/],
      ['/v1/reports/mrr/history?from=2010-01&to=2020-01', 'to', /at most 120 months/],
      ['/v1/reports/mrr/history?from=2026-01&to=2026-04&asOf=2026-03-15T00:00:00Z', 'to', /not be after the month of asOf/],
      ['/v1/reports/mrr/history?from=2026-01&to=2026-02&granularity=day', 'granularity', /not a known field/],
    ];
    for (const [path, field, message] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(res.problem.code, path).toBe('validation_failed');
      expect(res.problem.errors, path).toEqual([expect.objectContaining({ path: field, message: expect.stringMatching(message) as string })]);
    }
    // The longest history allowed is fine.
    expect((await get('/v1/reports/mrr/history?from=2017-04&to=2027-03&asOf=2027-03-01T00:00:00Z')).status).toBe(200);
  });

  it('a credential without reports:read with 403, a customer-scoped one too, and no credential with 401', async () => {
    for (const path of ['/v1/reports/mrr', '/v1/reports/mrr/history?from=2026-01&to=2026-02&asOf=2026-03-01T00:00:00Z']) {
      const payments = await get(path, await h.token({ scopes: ['payments:read'] }));
      expect(payments.status, path).toBe(403);
      expect(payments.problem.code, path).toBe('insufficient_scope');
      const customer = await get(path, await h.token({ scopes: ['reports:read'], customerId: 'cus_1' }));
      expect(customer.status, path).toBe(403);
      expect(customer.problem.code, path).toBe('forbidden');
      expect((await get(path, null)).status, path).toBe(401);
      expect((await get(path, h.adminToken)).status, path).toBe(200);
    }
  });

  it('is described in /openapi.json', async () => {
    const doc = (await get('/openapi.json', null)).json as { paths: Record<string, { get: { parameters: { name?: string }[] } }> };
    expect(doc.paths['/v1/reports/mrr']?.get.parameters.map((p) => p.name).filter(Boolean)).toEqual(expect.arrayContaining(['asOf', 'currency', 'testClock']));
    expect(doc.paths['/v1/reports/mrr/history']?.get.parameters.map((p) => p.name).filter(Boolean)).toEqual(expect.arrayContaining(['from', 'to', 'asOf', 'currency', 'testClock']));
  });
});
