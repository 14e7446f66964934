import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { formatPosition } from '../../src/application/ports/position.js';
import type { RefundView } from '../../src/application/refunds/refund-view.js';
import type { PaymentId, RefundId } from '../../src/domain/ids.js';
import { refundStream, toPaymentId, toRefundId } from '../../src/domain/ids.js';
import { inTransaction } from '../../src/infrastructure/postgres/projections/transaction.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { projectionSchema } from '../../src/projections/projection.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { SqlRefundQueries } from '../../src/projections/refunds/refund-queries.js';
import { REFUNDS_SCHEMA_SQL } from '../../src/projections/refunds/refund-row.js';
import { refundsProjection } from '../../src/projections/refunds/refunds-projection.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import { cutIntoBatches } from './support/payment-scenarios.js';
import type { RefundPlan } from './support/refund-scenarios.js';
import { batchSizesArb, expectedRow, refundEvents, scenarioArb, scenarioLog, toNewEvents } from './support/refund-scenarios.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually } from './support/test-projections.js';

/*
 * The refunds read model against real PostgreSQL, with refund events appended straight to
 * the event store as the contract describes them (src/domain/refund/events.ts): the runner,
 * the set-based upsert and its revision guard, the CHECKs, the list queries and their
 * indexes, realtime rows, replay, audit and rebuild.
 */

const SCHEMA = projectionSchema('refunds');
let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let queries: SqlRefundQueries;

const pay = (n: number): PaymentId => toPaymentId(`pay_01JE00000000000000000000${n}0`);
const re = (n: number): RefundId => toRefundId(`re_01JE00000000000000000000${n}0`);
const base: Omit<RefundPlan, 'outcome'> = { amount: 500, currency: 'USD', customer: 0, reason: null };

/** Appends a refund's whole history (one append per event, as the write side would) and returns the last position. */
async function write(refundId: RefundId, paymentId: PaymentId, plan: RefundPlan): Promise<Position> {
  let last: Position | undefined;
  for (const [i, event] of refundEvents(refundId, paymentId, plan).entries()) {
    const result = await service.eventStore.append(refundStream(refundId), toNewEvents([event]), i === 0 ? 'no_stream' : streamRevision(i - 1));
    last = result.position;
  }
  return last!;
}

/** Refunds 1..6, oldest first: two payments, two customers, every status. */
const fixtures: [RefundId, PaymentId, RefundPlan][] = [
  [re(1), pay(1), { ...base, outcome: 'succeeded', reason: 'requested_by_customer' }],
  [re(2), pay(1), { ...base, amount: 250, outcome: 'failed' }],
  [re(3), pay(1), { ...base, amount: 100, outcome: 'pending' }],
  [re(4), pay(2), { ...base, amount: 70, currency: 'JPY', customer: 1, outcome: 'canceled' }],
  [re(5), pay(2), { ...base, amount: 30, currency: 'JPY', customer: 1, outcome: 'succeeded' }],
  [re(6), pay(1), { ...base, amount: 50, outcome: 'succeeded' }],
];

beforeAll(async () => {
  t = await projectionTestDatabase('refunds_projection');
  service = t.instance('refunds');
  let last: Position | undefined;
  for (const [refundId, paymentId, plan] of fixtures) last = await write(refundId, paymentId, plan);
  runner = new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [refundsProjection] }, { leaseRetryMs: 100 });
  runner.start();
  await eventually(() => reached(service.pool, 'refunds', last), 10_000, 'refunds caught up');
  queries = new SqlRefundQueries(sqlExecutor(service.pool));
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

const idsOf = (page: Awaited<ReturnType<SqlRefundQueries['list']>>): string[] => {
  if (!page.ok) throw new Error('unexpected invalid cursor');
  return page.value.data.map((r) => r.id);
};

describe('refunds read model', () => {
  it('holds one row per refund with its status, amount and reasons', async () => {
    expect(await queries.get(re(1))).toMatchObject({ status: 'succeeded', amount: 500, currency: 'USD', reason: 'requested_by_customer', failureReason: null, revision: '1', paymentId: pay(1), customerId: 'cus_0' });
    expect(await queries.get(re(2))).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card', revision: '1' });
    expect(await queries.get(re(3))).toMatchObject({ status: 'pending', revision: '0', metadata: { order: 'o-100', a: '1' } });
    expect(await queries.get(re(4))).toMatchObject({ status: 'canceled', currency: 'JPY', customerId: 'cus_1' });
    expect(await queries.get(re(9))).toBeUndefined();
  });

  it('lists newest first by payment, customer and status, in keyset pages, and refuses a cursor it did not issue', async () => {
    expect(idsOf(await queries.list({}))).toEqual([re(6), re(5), re(4), re(3), re(2), re(1)]);
    expect(idsOf(await queries.list({ paymentId: pay(1) }))).toEqual([re(6), re(3), re(2), re(1)]);
    expect(idsOf(await queries.list({ customerId: 'cus_1' }))).toEqual([re(5), re(4)]);
    expect(idsOf(await queries.list({ status: 'succeeded' }))).toEqual([re(6), re(5), re(1)]);
    expect(idsOf(await queries.list({ paymentId: pay(1), status: 'succeeded', customerId: 'cus_0' }))).toEqual([re(6), re(1)]);

    const walked: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queries.list({ paymentId: pay(1), limit: 3, cursor });
      walked.push(...idsOf(page));
      cursor = (page.ok && page.value.nextCursor) || undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(walked).toEqual([re(6), re(3), re(2), re(1)]);
    expect(pages).toBe(2);

    expect((await queries.list({ cursor: 'not-ours' })).ok).toBe(false);
    // A payments cursor (it names a payment id) is not a refunds cursor.
    const paymentCursor = Buffer.from(JSON.stringify({ v: 1, before: pay(1) })).toString('base64url');
    expect((await queries.list({ cursor: paymentCursor })).ok).toBe(false);
    expect(idsOf(await queries.list({ limit: 0 }))).toHaveLength(1);
  });

  it('serves each list shape from its index', async () => {
    const client = await service.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = async (where: string): Promise<string> =>
        (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT * FROM ${SCHEMA}.refunds WHERE ${where} ORDER BY id DESC LIMIT 21`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(await plan(`payment_id = '${pay(1)}'`)).toMatch(/refunds_payment_id_id/);
      expect(await plan(`customer_id = 'cus_1'`)).toMatch(/refunds_customer_id_id/);
      expect(await plan(`status = 'pending'`)).toMatch(/refunds_status_id/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('announces every change on the refund, payment and customer topics, created then updated', async () => {
    const { rows } = await service.pool.query<{ topic: string; type: string; data: RefundView }>(
      `SELECT topic, type, data FROM realtime_changes WHERE data->>'id' = $1 ORDER BY id`,
      [re(2)],
    );
    expect(rows.map((r) => [r.topic, r.type])).toEqual([
      [`refund:${re(2)}`, 'refund.created'],
      [`payment:${pay(1)}`, 'refund.created'],
      ['customer:cus_0', 'refund.created'],
      [`refund:${re(2)}`, 'refund.updated'],
      [`payment:${pay(1)}`, 'refund.updated'],
      ['customer:cus_0', 'refund.updated'],
    ]);
    expect(rows[5]!.data).toEqual(await queries.get(re(2)));
  });

  it('keeps its rules in CHECK constraints', async () => {
    await expect(service.pool.query(`UPDATE ${SCHEMA}.refunds SET status = 'refunded' WHERE id = $1`, [re(3)])).rejects.toThrow(/refunds_status_known/);
    await expect(service.pool.query(`UPDATE ${SCHEMA}.refunds SET failure_reason = 'x' WHERE id = $1`, [re(1)])).rejects.toThrow(/refunds_failure_reason_iff_failed/);
    await expect(service.pool.query(`UPDATE ${SCHEMA}.refunds SET amount = 0 WHERE id = $1`, [re(1)])).rejects.toThrow(/refunds_amount_positive/);
  });

  it('is idempotent under replay, and audits and rebuilds to the same rows', async () => {
    const before = (await service.pool.query(`SELECT * FROM ${SCHEMA}.refunds ORDER BY id`)).rows;
    const events = (await service.eventStore.readAll({ maxCount: 1_000 })).filter((e) => refundsProjection.eventTypes.includes(e.type));
    const replayed = await inTransaction(service.pool, async (client) => {
      await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
      return { commit: true, value: await refundsProjection.applyBatch!(sqlExecutor(client), events) };
    });
    expect(replayed).toEqual([]);
    expect((await service.pool.query(`SELECT * FROM ${SCHEMA}.refunds ORDER BY id`)).rows).toEqual(before);

    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [refundsProjection] }, { batchSize: 4 });
    const audit = await rebuilder.audit('refunds');
    expect(audit.ok && audit.value.matches).toBe(true);
    expect((await rebuilder.rebuild('refunds')).ok).toBe(true);
    expect((await service.pool.query(`SELECT * FROM ${SCHEMA}.refunds ORDER BY id`)).rows).toEqual(before);
  });
});

describe('refunds read model on random refund histories, through PostgreSQL', () => {
  it('holds each refund\'s status and amount whatever the batches, and a second pass changes nothing', async () => {
    const db = await projectionTestDatabase('refunds_fold');
    try {
      await inTransaction(db.db.pool, async (client) => {
        await client.query(`CREATE SCHEMA ${SCHEMA}`);
        await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
        await client.query(REFUNDS_SCHEMA_SQL);
        return { commit: true, value: undefined };
      });
      const project = async (log: readonly RecordedEvent[], sizes: readonly number[]): Promise<unknown[]> => {
        const changes: unknown[] = [];
        for (const batch of cutIntoBatches(log, sizes)) {
          changes.push(
            ...(await inTransaction(db.db.pool, async (client) => {
              await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
              return { commit: true, value: await refundsProjection.applyBatch!(sqlExecutor(client), batch) };
            })),
          );
        }
        return changes;
      };
      const rows = new SqlRefundQueries(sqlExecutor(db.db.pool));
      let run = 0;
      await fc.assert(
        fc.asyncProperty(scenarioArb, batchSizesArb, batchSizesArb, async (scenario, sizes, againSizes) => {
          run += 1;
          const { log, expected } = scenarioLog(scenario, run);
          expect(await project(log, sizes)).toHaveLength(log.length);
          for (const e of expected) expect(await rows.get(e.refundId)).toMatchObject(expectedRow(e));
          const table = async (): Promise<unknown[]> => (await db.db.pool.query<Record<string, unknown>>(`SELECT * FROM ${SCHEMA}.refunds WHERE id = ANY($1::text[]) ORDER BY id`, [expected.map((e) => e.refundId)])).rows;
          const before = await table();
          expect(await project(log, againSizes)).toEqual([]);
          expect(await table()).toEqual(before);
        }),
        { numRuns: 25 },
      );
    } finally {
      await db.drop();
    }
  });
});

describe('refunds projection on an event that cannot apply', () => {
  it('stops at an update of a refund it never saw, naming it', async () => {
    const db = await projectionTestDatabase('refunds_stops');
    const s = db.instance('refunds');
    const stopped = new ProjectionRunner({ eventStore: s.eventStore, store: s.store, projections: [refundsProjection] }, { leaseRetryMs: 100 });
    try {
      const [, succeeded] = refundEvents(re(7), pay(7), { ...base, outcome: 'succeeded' });
      await s.eventStore.append(refundStream(re(7)), toNewEvents([succeeded!]), 'no_stream');
      stopped.start();
      await eventually(async () => (await s.store.read(['refunds']))[0]?.failure != null, 10_000, 'failure recorded');
      const bad = (await s.eventStore.readStream(refundStream(re(7)))).events[0]!;
      const [status] = await readProjectionStatuses({ store: s.store, eventStore: s.eventStore, projections: [refundsProjection] });
      expect(status).toMatchObject({ status: 'failed', failedEventId: bad.id, failedPosition: formatPosition(bad.position) });
      expect(status?.error).toMatch(new RegExp(`refund ${re(7)} is not in the read model`));
    } finally {
      await stopped.stop();
      await db.drop();
    }
  });
});
