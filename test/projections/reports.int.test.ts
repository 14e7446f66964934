import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import type { RevenueReportQuery, RevenueRow } from '../../src/application/ports/revenue-reports.js';
import type { CalendarDate } from '../../src/application/reports/calendar-date.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { reportsProjection } from '../../src/projections/reports/reports-projection.js';
import { SqlRevenueReports } from '../../src/projections/reports/revenue-queries.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { REVENUE_SCENARIO, SCENARIO_DAYS, SCENARIO_MONTHS, appendStep, expectedRow } from './support/revenue-events.js';
import { eventually } from './support/test-projections.js';

let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let counter = 0;

/** A payment authorized and captured at `occurredAt`: only the capture counts. */
const capture = async (store: EventStore, amount: number, currency: string, occurredAt: string): Promise<Position> =>
  (await appendStep(store, { kind: 'capture', amount, currency, occurredAt }, ++counter)).position;

const date = (text: string) => text as CalendarDate;
async function report(query: Omit<Partial<RevenueReportQuery>, 'from' | 'to'> & { from: string; to: string }, pageRows?: number): Promise<{ rows: RevenueRow[]; pages: number }> {
  const reports = new SqlRevenueReports(sqlExecutor(service.pool), pageRows);
  const rows: RevenueRow[] = [];
  let pages = 0;
  for await (const page of reports.pages({ granularity: 'day', ...query, from: date(query.from), to: date(query.to) })) {
    expect(page.length).toBeGreaterThan(0);
    rows.push(...page);
    pages += 1;
  }
  return { rows, pages };
}

const row = (...args: Parameters<typeof expectedRow>): RevenueRow => {
  const r = expectedRow(...args);
  return { ...r, currency: toCurrencyCode(r.currency) };
};

let last: Position;

beforeAll(async () => {
  t = await projectionTestDatabase('reports_projection');
  service = t.instance('reports');
  const s = service.eventStore;
  for (const step of REVENUE_SCENARIO) await appendStep(s, step, ++counter);
  last = await capture(s, 100, 'USD', '2025-03-02T10:00:00Z');
  runner = new ProjectionRunner({ eventStore: s, store: service.store, projections: [reportsProjection] }, { leaseRetryMs: 100, batchSize: 3 });
  runner.start();
  await eventually(() => reached(service.pool, 'reports', last), 10_000, 'reports caught up');
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

// The shared scenario, and one more capture on a day that also refunds.
const DAYS: RevenueRow[] = [...SCENARIO_DAYS.map((r) => row(r.period, r.currency, r.gross, r.refunded, r.payments, r.refunds)), row('2025-03-02', 'USD', 100, 0, 1, 0)];

describe('reports read model', () => {
  it('sums captures and succeeded refunds per UTC day and currency', async () => {
    expect((await report({ from: '2025-01-01', to: '2025-12-31' })).rows).toEqual(DAYS);
    expect((await report({ from: '2025-02-01', to: '2025-02-28' })).rows).toEqual(DAYS.slice(1, 4));
    expect((await report({ from: '2025-02-02', to: '2025-02-27' })).rows).toEqual([]);
  });

  it('filters by currency', async () => {
    expect((await report({ from: '2025-01-01', to: '2025-12-31', currency: toCurrencyCode('USD') })).rows).toEqual(DAYS.filter((r) => r.currency === 'USD'));
  });

  it('groups by UTC calendar month, within the range asked', async () => {
    expect((await report({ from: '2024-12-01', to: '2025-03-31', granularity: 'month' })).rows).toEqual([
      ...SCENARIO_MONTHS.map((r) => row(r.period, r.currency, r.gross, r.refunded, r.payments, r.refunds)),
      row('2025-03', 'USD', 100, 0, 1, 0),
    ]);
    // A partial month counts only its days in range.
    expect((await report({ from: '2025-02-02', to: '2025-03-01', granularity: 'month' })).rows).toEqual([row('2025-02', 'JPY', 5_000, 0, 1, 0)]);
    expect((await report({ from: '2025-01-01', to: '2025-12-31', granularity: 'month', currency: toCurrencyCode('EUR') })).rows).toEqual([
      row('2025-02', 'EUR', 700, 0, 1, 0),
      row('2025-03', 'EUR', 0, 400, 0, 1),
    ]);
  });

  it('reads in bounded pages that continue where the last one ended', async () => {
    const paged = await report({ from: '2025-01-01', to: '2025-12-31' }, 2);
    expect(paged.rows).toEqual(DAYS);
    expect(paged.pages).toBe(3);
    const usd = await report({ from: '2025-01-01', to: '2025-12-31', currency: toCurrencyCode('USD') }, 1);
    expect(usd.rows).toEqual(DAYS.filter((r) => r.currency === 'USD'));
    expect(usd.pages).toBe(3);
  });

  it('is idempotent under replay: applying every event again changes nothing', async () => {
    const before = (await service.pool.query('SELECT * FROM rm_reports.revenue_daily ORDER BY day, currency')).rows;
    const events = (await service.eventStore.readAll({ maxCount: 1_000 })).filter((e) => reportsProjection.eventTypes.includes(e.type));
    const client = await service.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL search_path TO rm_reports');
      await reportsProjection.applyBatch!(sqlExecutor(client), events);
      for (const event of events) await reportsProjection.apply(sqlExecutor(client), event);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await service.pool.query('SELECT * FROM rm_reports.revenue_daily ORDER BY day, currency')).rows).toEqual(before);
  });

  it('refuses negative totals in the database itself', async () => {
    await expect(service.pool.query(`UPDATE rm_reports.revenue_daily SET gross = -1 WHERE currency = 'USD'`)).rejects.toThrow(/revenue_daily_gross_non_negative/);
    await expect(service.pool.query(`UPDATE rm_reports.revenue_daily SET currency = 'usd' WHERE currency = 'USD'`)).rejects.toThrow(/revenue_daily_currency_code/);
  });

  it('rebuilds and audits to the same rows, then keeps counting live', async () => {
    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [reportsProjection] }, { batchSize: 2 });
    const audit = await rebuilder.audit('reports');
    expect(audit.ok && audit.value.matches).toBe(true);
    const rebuilt = await rebuilder.rebuild('reports');
    expect(rebuilt.ok).toBe(true);
    expect((await report({ from: '2025-01-01', to: '2025-12-31' })).rows).toEqual(DAYS);

    const at = await capture(service.eventStore, 50, 'USD', '2025-03-02T23:00:00Z');
    await eventually(() => reached(service.pool, 'reports', at), 10_000, 'live after the rebuild');
    expect((await report({ from: '2025-03-02', to: '2025-03-02', currency: toCurrencyCode('USD') })).rows).toEqual([row('2025-03-02', 'USD', 150, 0, 2, 0)]);
  });
});
