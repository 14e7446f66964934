import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supportedCurrencies } from '../../src/domain/currency.js';
import { REVENUE_STATEMENTS } from '../../src/projections/reports/revenue-queries.js';
import { REVENUE_SCHEMA_SQL } from '../../src/projections/reports/revenue-schema.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * Each report query is served by the index designed for it (src/projections/reports/
 * revenue-schema.ts), on a table the size of a real one: three years of days in 40
 * currencies, analysed, so the planner chooses as it would in production.
 */

let db: TestDatabase;
const CURRENCIES = supportedCurrencies().slice(0, 40);

beforeAll(async () => {
  db = await createTestDatabase('reports_indexes');
  const client = await db.pool.connect();
  try {
    await client.query('CREATE SCHEMA rm_reports');
    await client.query('SET search_path TO rm_reports');
    await client.query(REVENUE_SCHEMA_SQL);
    await client.query(
      `INSERT INTO revenue_daily (day, currency, gross, refunded, payments, refunds, last_commit, last_prepare)
       SELECT d::date, c, 1000, 10, 3, 1, 1, 1
         FROM generate_series(date '2023-01-01', date '2025-12-31', interval '1 day') AS d, unnest($1::text[]) AS c`,
      [CURRENCIES],
    );
    await client.query('ANALYZE revenue_daily');
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await db?.drop();
});

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PlanNode[];
}

async function plan(text: string, params: readonly unknown[]): Promise<PlanNode> {
  const result = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, [...params]);
  return result.rows[0]!['QUERY PLAN'][0].Plan;
}

const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
const indexesUsed = (node: PlanNode): string[] => nodes(node).flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
const types = (node: PlanNode): string[] => nodes(node).map((n) => n['Node Type']);

/** The plan reads `index` alone, in the order asked (no sequential scan, no sort). */
async function expectOrderedIndexScan(text: string, params: readonly unknown[], index: string): Promise<void> {
  const p = await plan(text, params);
  expect(indexesUsed(p)).toEqual([index]);
  expect(types(p)).not.toContain('Seq Scan');
  expect(types(p)).not.toContain('Sort');
}

describe('report indexes', () => {
  it('the primary key (day, currency) serves a day report over every currency, in order, page after page', async () => {
    // A long range (the streamed case): pages come off the index in order, no sort. (For a
    // range smaller than a page the planner may rightly pick a bitmap scan of the same
    // index and sort that page: also no sequential scan.)
    await expectOrderedIndexScan(REVENUE_STATEMENTS.daysFirst, ['2023-01-01', '2025-12-31', 1_000], 'revenue_daily_pkey');
    await expectOrderedIndexScan(REVENUE_STATEMENTS.daysNext, ['2024-03-10', '2025-12-31', 1_000, 'EUR'], 'revenue_daily_pkey');
  });

  it('(currency, day) serves a day report in one currency', async () => {
    await expectOrderedIndexScan(REVENUE_STATEMENTS.currencyDaysFirst, ['2024-01-01', '2024-12-31', 1_000, 'USD'], 'revenue_daily_currency_day');
    await expectOrderedIndexScan(REVENUE_STATEMENTS.currencyDaysNext, ['2024-06-30', '2024-12-31', 1_000, 'USD'], 'revenue_daily_currency_day');
  });

  it('month reports read the same index ranges and group them', async () => {
    const all = await plan(REVENUE_STATEMENTS.months, ['2025-01-01', '2025-12-31']);
    expect(types(all)).not.toContain('Seq Scan');
    expect(indexesUsed(all)).toEqual(['revenue_daily_pkey']);
    const one = await plan(REVENUE_STATEMENTS.currencyMonths, ['2025-01-01', '2025-12-31', 'USD']);
    expect(types(one)).not.toContain('Seq Scan');
    expect(indexesUsed(one)).toEqual(['revenue_daily_currency_day']);
  });
});
