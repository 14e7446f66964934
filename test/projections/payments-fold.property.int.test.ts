import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { inTransaction } from '../../src/infrastructure/postgres/projections/transaction.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SqlPaymentQueries } from '../../src/projections/payments/payment-queries.js';
import { paymentsProjection } from '../../src/projections/payments/payments-projection.js';
import { projectionSchema } from '../../src/projections/projection.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { createPaymentsTable } from '../realtime/auth-support.js';
import { batchSizesArb, cutIntoBatches, expectedView, runSteps, scenarioIds, stepsArb } from './support/payment-scenarios.js';

/*
 * The property of payment-view-fold.unit.test.ts, through PostgreSQL: the projection's
 * own SQL (the set-based upsert and its revision guard, the column types, the CHECKs) and
 * the query side's row → view. Fewer runs, each on payments of its own.
 */

const RUNS = 25;
const SCHEMA = projectionSchema('payments');

let db: TestDatabase;
let queries: SqlPaymentQueries;

beforeAll(async () => {
  db = await createTestDatabase('payments_fold');
  await createPaymentsTable(db.pool);
  queries = new SqlPaymentQueries(sqlExecutor(db.pool));
});

afterAll(async () => {
  await db?.drop();
});

/** Each batch in its own transaction, as the runner does; the changes it announced. */
async function project(log: readonly RecordedEvent[], sizes: readonly number[]): Promise<unknown[]> {
  const changes: unknown[] = [];
  for (const batch of cutIntoBatches(log, sizes)) {
    const applied = await inTransaction(db.pool, async (client) => {
      await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
      return { commit: true, value: await paymentsProjection.applyBatch!(sqlExecutor(client), batch) };
    });
    changes.push(...applied);
  }
  return changes;
}

const rowsOf = async (ids: readonly string[]): Promise<unknown[]> =>
  (await db.pool.query<Record<string, unknown>>(`SELECT * FROM ${SCHEMA}.payments WHERE id = ANY($1::text[]) ORDER BY id`, [ids])).rows;

describe('payments read model in PostgreSQL', () => {
  it('holds toPaymentView of the aggregate fold for random commands cut into random batches, and a second pass changes nothing', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(stepsArb, batchSizesArb, batchSizesArb, async (steps, sizes, againSizes) => {
        run += 1;
        const ids = scenarioIds(run);
        const { log, streams } = runSteps(steps, ids);
        const changes = await project(log, sizes);
        expect(changes).toHaveLength(log.length);
        for (const stream of streams) expect(await queries.get(stream.paymentId)).toEqual(expectedView(stream));
        const untouched = ids.filter((id) => !streams.some((s) => s.paymentId === id));
        for (const id of untouched) expect(await queries.get(id)).toBeUndefined();

        const before = await rowsOf(ids);
        expect(await project(log, againSizes)).toEqual([]);
        expect(await rowsOf(ids)).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });
});
