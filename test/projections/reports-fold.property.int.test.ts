import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { reportsProjection } from '../../src/projections/reports/reports-projection.js';
import { rowKey } from '../../src/projections/reports/revenue-fold.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { capturedEvent, recorded, refundSucceededEvent } from './support/revenue-events.js';

/*
 * The SQL half of the reports projection against a naive recomputation: random captures
 * and refunds, cut into random batches, each applied in its own transaction (some twice),
 * must leave rm_reports.revenue_daily with exactly the per-(UTC day, currency) sums.
 */

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('reports_property');
});

afterAll(async () => {
  await db?.drop();
});

const DAY0 = Date.UTC(2024, 11, 30);
const stepArb = fc.record({
  refund: fc.boolean(),
  minute: fc.integer({ min: 0, max: 4 * 24 * 60 - 1 }),
  currency: fc.constantFrom('USD', 'EUR', 'JPY'),
  amount: fc.integer({ min: 1, max: 1_000_000 }),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

const occurredAt = (s: Step): string => new Date(DAY0 + s.minute * 60_000).toISOString();

function events(steps: readonly Step[]): RecordedEvent[] {
  return steps.map((s, i) => {
    const spec = { payment: i + 1, refund: i + 1, amount: s.amount, currency: s.currency, occurredAt: occurredAt(s) };
    return recorded(s.refund ? refundSucceededEvent(spec) : capturedEvent(spec), i + 1);
  });
}

function naive(steps: readonly Step[]): Record<string, string> {
  const sums = new Map<string, [number, number, number, number]>();
  for (const s of steps) {
    const key = rowKey(occurredAt(s).slice(0, 10), s.currency);
    const [g, r, p, n] = sums.get(key) ?? [0, 0, 0, 0];
    sums.set(key, s.refund ? [g, r + s.amount, p, n + 1] : [g + s.amount, r, p + 1, n]);
  }
  return Object.fromEntries([...sums].map(([key, sum]) => [key, sum.join(' ')]));
}

async function applyInTransaction(batch: readonly RecordedEvent[]): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL search_path TO rm_reports');
    await reportsProjection.applyBatch!(sqlExecutor(client), batch);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function table(): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ key: string; sums: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') || ' ' || currency AS key, concat_ws(' ', gross, refunded, payments, refunds) AS sums FROM rm_reports.revenue_daily`,
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.sums]));
}

describe('reports projection in PostgreSQL (property)', () => {
  it('equals a naive recomputation for any batching; a batch applied again changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        async (steps, cuts, replays) => {
          await db.pool.query('DROP SCHEMA IF EXISTS rm_reports CASCADE; CREATE SCHEMA rm_reports');
          await db.pool.query(`SET search_path TO rm_reports; ${reportsProjection.schemaSql}; RESET search_path`);
          const log = events(steps);
          let at = 0;
          for (let i = 0; at < log.length; i++) {
            const batch = log.slice(at, at + (cuts[i % cuts.length] as number));
            await applyInTransaction(batch);
            if (replays[i % replays.length]) {
              const before = await table();
              await applyInTransaction(batch);
              expect(await table()).toEqual(before);
            }
            at += batch.length;
          }
          expect(await table()).toEqual(naive(steps));
        },
      ),
      { numRuns: 40 },
    );
  });
});
