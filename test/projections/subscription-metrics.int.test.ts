import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { instantAt, monthInstants, parseMonth } from '../../src/application/reports/mrr-months.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { compareSchemas } from '../../src/infrastructure/postgres/projections/schema-comparison.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SqlMrrReports } from '../../src/projections/subscription-metrics/mrr-queries.js';
import { subscriptionMetricsProjection } from '../../src/projections/subscription-metrics/subscription-metrics-projection.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { MRR_EXPECTED, TEST_CLOCK_ID, writeMrrScenario } from './support/mrr-scenario.js';

/*
 * The subscription metrics read model against PostgreSQL: subscription events written by
 * the real command handlers to the PostgreSQL event store, projected in small batches into
 * rm_subscription_metrics, read by the real queries at instants and per month.
 */

let db: TestDatabase;
let store: PostgresEventStore;
let events: readonly RecordedEvent[];
const SCHEMA = 'rm_subscription_metrics';

async function project(schema: string, batches: readonly (readonly RecordedEvent[])[], oneByOne = false): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(subscriptionMetricsProjection.schemaSql);
    const sql = sqlExecutor(client);
    for (const batch of batches) {
      const mine = batch.filter((e) => subscriptionMetricsProjection.eventTypes.includes(e.type));
      if (oneByOne) for (const e of mine) await subscriptionMetricsProjection.apply(sql, e);
      else await subscriptionMetricsProjection.applyBatch!(sql, mine);
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

async function tables(schema: string): Promise<unknown[]> {
  const intervals = await db.pool.query(`SELECT * FROM ${schema}.mrr_intervals ORDER BY subscription_id, seq`);
  const subs = await db.pool.query(`SELECT * FROM ${schema}.mrr_subscriptions ORDER BY id`);
  return [intervals.rows, subs.rows];
}

const strip = ({ label: _label, ...figures }: { label: string }) => figures;

beforeAll(async () => {
  db = await createTestDatabase('mrr_rm');
  await migrate(db.pool, eventStoreMigrations);
  store = new PostgresEventStore(db.pool);
  events = await writeMrrScenario(store);
  await project(SCHEMA, chunks(events, 3));
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe('the subscription metrics read model', () => {
  it('reads MRR at an instant: trialing adds nothing, past_due counts, churn within the month, currencies apart', async () => {
    const reports = new SqlMrrReports(sqlExecutor(db.pool));
    for (const key of ['jan20', 'jan31', 'feb05', 'feb20'] as const) {
      const expected = MRR_EXPECTED[key];
      const rows = await reports.snapshots({ instants: [instantAt(new Date(expected.asOf), key)], testClock: null });
      expect(rows.map(strip), key).toEqual(expected.data);
    }
  });

  it('reports a test clock\'s subscriptions only when asked, and only them', async () => {
    const reports = new SqlMrrReports(sqlExecutor(db.pool));
    for (const key of ['clockJan10', 'clockJan31'] as const) {
      const expected = MRR_EXPECTED[key];
      const rows = await reports.snapshots({ instants: [instantAt(new Date(expected.asOf), key)], testClock: TEST_CLOCK_ID });
      expect(rows.map(strip), key).toEqual(expected.data);
    }
    const other = await reports.snapshots({ instants: [instantAt(new Date('2026-01-10T00:00:00Z'), 'x')], testClock: 'clock_00000000000000000000000000' });
    expect(other).toEqual([]);
  });

  it('reads one row per month and currency across a price change, and a currency alone (zeros included)', async () => {
    const reports = new SqlMrrReports(sqlExecutor(db.pool));
    const asOf = new Date('2026-03-15T00:00:00Z');
    const instants = monthInstants(parseMonth('2026-01') as number, parseMonth('2026-03') as number, asOf);
    const rows = await reports.snapshots({ instants, testClock: null });
    const at = new Map(instants.map((i) => [i.label, i.at.toISOString()]));
    expect(rows.map(({ label, ...figures }) => ({ month: label, at: at.get(label), ...figures }))).toEqual(MRR_EXPECTED.history);
    const eur = await reports.snapshots({ instants, currency: toCurrencyCode('EUR'), testClock: null });
    expect(eur.map((r) => [r.label, r.mrr])).toEqual([['2026-01', 2_500], ['2026-02', 2_500], ['2026-03', 3_000]]);
    const jpy = await reports.snapshots({ instants: instants.slice(0, 1), currency: toCurrencyCode('JPY'), testClock: null });
    expect(jpy).toEqual([{ label: '2026-01', currency: 'JPY', mrr: 0, arr: 0, active: 0, trialing: 0, pastDue: 0, churnedThisMonth: 0 }]);
    // Before anything existed: nothing to show.
    expect(await reports.snapshots({ instants: [instantAt(new Date('2025-12-01T00:00:00Z'), 'x')], testClock: null })).toEqual([]);
  });

  it('writes the same rows event by event as in batches, and a replay changes nothing', async () => {
    const before = await tables(SCHEMA);
    await project(SCHEMA, [events]);
    expect(await tables(SCHEMA)).toEqual(before);
    await project('rm_mrr_one_by_one', [events], true);
    expect(await tables('rm_mrr_one_by_one')).toEqual(before);
    await project('rm_mrr_one_batch', [events]);
    expect(await tables('rm_mrr_one_batch')).toEqual(before);
    // The audit's comparison (what `ledger projections audit` runs) finds nothing to report.
    const client = await db.pool.connect();
    try {
      expect(await compareSchemas(client, SCHEMA, 'rm_mrr_one_by_one')).toEqual({ count: 0, sample: [] });
    } finally {
      client.release();
    }
  });

  it('answers from the indexes the schema declares', async () => {
    const client: pg.PoolClient = await db.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT count(*) FROM ${SCHEMA}.mrr_intervals i WHERE i.during @> '2026-01-31T00:00:00Z'::timestamptz AND i.status IN ('active', 'past_due', 'trialing')`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/mrr_intervals_during/);
    } finally {
      client.release();
    }
  });
});
