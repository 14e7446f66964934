import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { formatPosition } from '../../src/application/ports/position.js';
import type { RevenueRow } from '../../src/application/ports/revenue-reports.js';
import { REVENUE_COLUMNS } from '../../src/infrastructure/http/routes/reports.js';
import { RevenueRowSchema } from '../../src/infrastructure/http/schemas.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { reportsProjection } from '../../src/projections/reports/reports-projection.js';
import { REPORT_PAGE_ROWS } from '../../src/projections/reports/revenue-queries.js';
import type { ExpectedRow } from '../projections/support/revenue-events.js';
import { REVENUE_SCENARIO, SCENARIO_DAYS, SCENARIO_MONTHS, appendStep, expectedRow } from '../projections/support/revenue-events.js';
import type { Harness } from './support/harness.js';
import { startHarness } from './support/harness.js';

/*
 * GET /v1/reports/revenue through the real app, over the real reports read model: events
 * appended to the PostgreSQL event store, applied by the reports projection into
 * rm_reports, read by the real queries.
 */

let h: Harness;
let reader: string;
let counter = 0;
let lastPosition = '';
const appliedEvents: RecordedEvent[] = [];

/** Runs the reports projection over the events appended so far, as the runner would (schema rm_reports). */
async function project(): Promise<void> {
  const client = await h.db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE SCHEMA IF NOT EXISTS rm_reports');
    await client.query('SET LOCAL search_path TO rm_reports');
    await client.query(reportsProjection.schemaSql);
    await reportsProjection.applyBatch!(sqlExecutor(client), appliedEvents.splice(0));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

const row = expectedRow;

const get = (query: string, options: { token?: string | null; headers?: Record<string, string> } = {}) =>
  h.request('GET', `/v1/reports/revenue?${query}`, { token: options.token === undefined ? reader : options.token, ...(options.headers ? { headers: options.headers } : {}) });

const csvOf = (rows: readonly ExpectedRow[]): string =>
  `period,currency,gross,refunded,net,payments,refunds\r\n${rows.map((r) => `${REVENUE_COLUMNS.map((c) => r[c]).join(',')}\r\n`).join('')}`;

beforeAll(async () => {
  h = await startHarness('http_reports', { limits: { minPositionWaitMs: 300 } });
  reader = await h.token({ scopes: ['reports:read'] });
  for (const step of REVENUE_SCENARIO) {
    const { position, counted } = await appendStep(h.store, step, ++counter);
    if (counted) appliedEvents.push(counted);
    lastPosition = formatPosition(position);
  }
  await project();
});

afterAll(async () => {
  await h?.close();
});

const DAYS = SCENARIO_DAYS;

describe('GET /v1/reports/revenue (JSON)', () => {
  it('answers one row per UTC day and currency, keys in the documented order', async () => {
    const res = await get('from=2025-01-01&to=2025-12-31');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.text).toBe(JSON.stringify({ data: DAYS }));
    expect(Object.keys(RevenueRowSchema.shape)).toEqual([...REVENUE_COLUMNS]);
    expect(res.headers.get('vary')).toMatch(/Accept/);
  });

  it('groups by UTC month with granularity=month', async () => {
    const res = await get('from=2025-01-15&to=2025-03-31&granularity=month');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: SCENARIO_MONTHS });
  });

  it('filters by currency, in either case', async () => {
    const lower = await get('from=2025-01-01&to=2025-12-31&currency=usd');
    const upper = await get('from=2025-01-01&to=2025-12-31&currency=USD');
    expect(lower.status).toBe(200);
    expect(lower.json).toEqual({ data: DAYS.filter((r) => r.currency === 'USD') });
    expect(upper.text).toBe(lower.text);
    expect((await get('from=2025-01-01&to=2025-12-31&currency=eur&granularity=month')).json).toEqual({
      data: [row('2025-02', 'EUR', 700, 0, 1, 0), row('2025-03', 'EUR', 0, 400, 0, 1)],
    });
  });

  it('an empty range is an empty list', async () => {
    expect((await get('from=2024-01-01&to=2024-12-31')).text).toBe('{"data":[]}');
  });

  it('waits for minPosition like every query', async () => {
    const res = await get(`from=2025-01-01&to=2025-12-31&minPosition=${lastPosition}`);
    expect(res.status).toBe(200);
    const bad = await get('from=2025-01-01&to=2025-12-31&minPosition=later');
    expect(bad.status).toBe(400);
    expect(bad.problem.errors).toEqual([expect.objectContaining({ path: 'minPosition' })]);
  });
});

describe('GET /v1/reports/revenue (CSV)', () => {
  it('Accept: text/csv answers the same rows as CSV with a header line', async () => {
    const res = await get('from=2025-01-01&to=2025-12-31', { headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="revenue-day-2025-01-01-2025-12-31.csv"');
    expect(res.text).toBe(csvOf(DAYS));
    const month = await get('from=2025-01-01&to=2025-12-31&granularity=month&currency=JPY', { headers: { accept: 'text/csv' } });
    expect(month.text).toBe(csvOf([row('2025-02', 'JPY', 5_000, 0, 1, 0)]));
    expect((await get('from=2024-01-01&to=2024-12-31', { headers: { accept: 'text/csv' } })).text).toBe('period,currency,gross,refunded,net,payments,refunds\r\n');
  });

  it('streams a three-year report in every currency page by page, JSON and CSV alike', async () => {
    // 1,096 days × 8 currencies: several pages of the read model, none of them the whole.
    const currencies = ['AUD', 'CAD', 'CHF', 'DKK', 'GBP', 'NOK', 'SEK', 'SGD'];
    await h.db.pool.query(
      `INSERT INTO rm_reports.revenue_daily (day, currency, gross, refunded, payments, refunds, last_commit, last_prepare)
       SELECT d::date, c, 100, 1, 1, 1, 0, 0 FROM generate_series(date '2020-01-01', date '2022-12-31', interval '1 day') AS d, unnest($1::text[]) AS c`,
      [currencies],
    );
    const expected = 1_096 * currencies.length;
    expect(expected).toBeGreaterThan(5 * REPORT_PAGE_ROWS);
    const csv = await get('from=2020-01-01&to=2022-12-31', { headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('transfer-encoding')).toBe('chunked');
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('period,currency,gross,refunded,net,payments,refunds');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(1, -1)).toHaveLength(expected);
    expect(lines[1]).toBe('2020-01-01,AUD,100,1,99,1,1');
    expect(lines.at(-2)).toBe('2022-12-31,SGD,100,1,99,1,1');
    const json = await get('from=2020-01-01&to=2022-12-31');
    const data = (json.json as { data: RevenueRow[] }).data;
    expect(data).toHaveLength(expected);
    expect(data.map((r) => `${REVENUE_COLUMNS.map((c) => r[c]).join(',')}`)).toEqual(lines.slice(1, -1));
    // In (period, currency) order, across page boundaries.
    const keys = data.map((r) => `${r.period} ${r.currency}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(keys).size).toBe(expected);

    // By month: 36 months read in windows of a year, each month summing its days.
    const months = (await get('from=2020-01-15&to=2022-12-31&granularity=month&currency=gbp')).json as { data: RevenueRow[] };
    expect(months.data.map((r) => r.period)).toEqual(
      [2020, 2021, 2022].flatMap((year) => Array.from({ length: 12 }, (_, m) => `${year}-${String(m + 1).padStart(2, '0')}`)),
    );
    const daysIn = (period: string): number => new Date(Date.UTC(Number(period.slice(0, 4)), Number(period.slice(5, 7)), 0)).getUTCDate();
    expect(months.data[0]).toMatchObject({ period: '2020-01', currency: 'GBP', gross: 17 * 100, payments: 17 }); // from the 15th
    for (const r of months.data.slice(1)) expect(r).toMatchObject({ currency: 'GBP', gross: daysIn(r.period) * 100, refunded: daysIn(r.period), payments: daysIn(r.period) });
  });
});

describe('GET /v1/reports/revenue refuses', () => {
  it('bad input with 400, naming the parameter', async () => {
    const cases: [string, string, RegExp][] = [
      ['to=2025-01-31', 'from', /./],
      ['from=2025-01-01', 'to', /./],
      ['from=2025-1-01&to=2025-01-31', 'from', /YYYY-MM-DD/],
      ['from=2025-02-30&to=2025-03-31', 'from', /exists/],
      ['from=2025-03-01&to=2025-02-28', 'to', /on or after from/],
      ['from=2023-01-01&to=2026-01-01', 'to', /at most 1096 days/],
      ['from=2025-01-01&to=2025-01-31&granularity=week', 'granularity', /./],
      ['from=2025-01-01&to=2025-01-31&currency=ZZZ', 'currency', /ISO 4217/],
      ['from=2025-01-01&to=2025-01-31&currency=dollars', 'currency', /three.letter/],
      ['from=2025-01-01&to=2025-01-31&currency=xxx', 'currency', /not accepted for payments/],
      ['from=2025-01-01&to=2025-01-31&limit=5', 'limit', /not a known field/],
      ['from=2025-01-01&from=2025-01-02&to=2025-01-31', 'from', /./],
    ];
    for (const [query, path, message] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      expect(res.problem.code, query).toBe('validation_failed');
      expect(res.problem.errors, query).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) as string })]);
    }
    // The longest range allowed is fine.
    expect((await get('from=2023-01-01&to=2025-12-31')).status).toBe(200);
  });

  it('a credential without reports:read with 403, a customer-scoped one too, and no credential with 401', async () => {
    const payments = await get('from=2025-01-01&to=2025-01-31', { token: await h.token({ scopes: ['payments:read'] }) });
    expect(payments.status).toBe(403);
    expect(payments.problem.code).toBe('insufficient_scope');
    const customer = await get('from=2025-01-01&to=2025-01-31', { token: await h.token({ scopes: ['reports:read'], customerId: 'cus_reports' }) });
    expect(customer.status).toBe(403);
    expect(customer.problem.code).toBe('forbidden');
    expect((await get('from=2025-01-01&to=2025-01-31', { token: null })).status).toBe(401);
    // admin implies every scope.
    expect((await get('from=2025-01-01&to=2025-01-31', { token: h.adminToken })).status).toBe(200);
  });
});
