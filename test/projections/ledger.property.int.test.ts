import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { ledgerProjection } from '../../src/projections/ledger/ledger-projection.js';
import { SqlLedgerQueries } from '../../src/projections/ledger/ledger-queries.js';
import type { TestDatabase } from '../support/pg.js';
import { playScenario, stepsArb } from './support/ledger-scenarios.js';
import { projectionTestDatabase } from './support/postgres-setup.js';
import type { ProjectionTestDatabase } from './support/postgres-setup.js';

/*
 * The ledger property through PostgreSQL (the pure rules get hundreds of runs in
 * ledger-posting-rules.unit.test.ts; these runs prove the same through the real SQL, the
 * triggers included): for any history of payments and refunds, split into batches at
 * random, every currency's trial balance is zero and per payment revenue + refunds nets to
 * captured − succeeded refunds; with disputes delivered in any order, disputed_funds holds the
 * open disputes' amounts, chargebacks the lost ones', dispute_fees the fees kept.
 */

let t: ProjectionTestDatabase;
let db: TestDatabase;

beforeAll(async () => {
  t = await projectionTestDatabase('ledger_property');
  db = t.db;
});

afterAll(async () => {
  await t?.drop();
});

async function freshSchema(): Promise<void> {
  await db.pool.query('DROP SCHEMA IF EXISTS rm_ledger CASCADE');
  await db.pool.query('CREATE SCHEMA rm_ledger');
  const c = await db.pool.connect();
  try {
    await c.query('SET search_path TO rm_ledger');
    await c.query(ledgerProjection.schemaSql);
  } finally {
    await c.query('RESET search_path');
    c.release();
  }
}

describe('Ledger property (PostgreSQL)', () => {
  it('every currency balances and per payment revenue + refunds = captured − succeeded refunds', async () => {
    const queries = new SqlLedgerQueries(sqlExecutor(db.pool));
    await fc.assert(
      fc.asyncProperty(stepsArb(30), fc.integer({ min: 1, max: 7 }), async (steps, batchSize) => {
        const { events, expected, disputes } = playScenario(steps);
        await freshSchema();
        for (let i = 0; i < events.length; i += batchSize) {
          const c = await db.pool.connect();
          try {
            await c.query('BEGIN');
            await c.query(`SET LOCAL search_path TO rm_ledger`);
            await ledgerProjection.applyBatch!(sqlExecutor(c), events.slice(i, i + batchSize));
            await c.query('COMMIT');
          } catch (error) {
            await c.query('ROLLBACK');
            throw error;
          } finally {
            c.release();
          }
        }
        const trial = await queries.trialBalance(undefined);
        for (const row of trial.data) expect(row.debits).toBe(row.credits);
        const nets = await db.pool.query<{ payment_id: string; net: string }>(
          `SELECT e.payment_id, sum(CASE p.side WHEN 'credit' THEN p.amount ELSE -p.amount END)::text AS net
             FROM rm_ledger.ledger_postings p JOIN rm_ledger.ledger_entries e ON e.event_id = p.entry_id
            WHERE p.account IN ('revenue', 'refunds') GROUP BY e.payment_id`,
        );
        const byPayment = new Map(nets.rows.map((r) => [r.payment_id, Number(r.net)]));
        for (const [paymentId, e] of expected) expect(byPayment.get(paymentId) ?? 0).toBe(e.captured - e.refunded);
        expect(byPayment.size).toBe([...expected.values()].filter((e) => e.captured > 0).length);
        // disputed_funds holds exactly the disputes still open; chargebacks the lost ones; dispute_fees every fee kept.
        const disputeRows = await db.pool.query<{ key: string; balance: string }>(
          `SELECT currency || '/' || account AS key, sum(CASE side WHEN 'debit' THEN amount ELSE -amount END)::text AS balance
             FROM rm_ledger.ledger_postings WHERE account IN ('disputed_funds', 'chargebacks', 'dispute_fees') GROUP BY 1`,
        );
        const wanted = new Map<string, number>();
        for (const d of disputes) {
          const add = (account: string, amount: number) => wanted.set(`${d.currency}/${account}`, (wanted.get(`${d.currency}/${account}`) ?? 0) + amount);
          add('disputed_funds', d.status === 'needs_response' || d.status === 'under_review' ? d.amount : 0);
          add('chargebacks', d.status === 'lost' ? d.amount : 0);
          add('dispute_fees', d.feeAmount);
        }
        const got = new Map(disputeRows.rows.map((r) => [r.key, Number(r.balance)]));
        for (const key of new Set([...wanted.keys(), ...got.keys()])) expect(got.get(key) ?? 0).toBe(wanted.get(key) ?? 0);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
