import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisputeCommandHandlers } from '../../src/application/disputes/dispute-command-handlers.js';
import type { ProviderDisputeSnapshot } from '../../src/application/ports/dispute-commands.js';
import type { Position } from '../../src/application/ports/position.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { PaymentId } from '../../src/domain/ids.js';
import { toPaymentId } from '../../src/domain/ids.js';
import { committedHeadPosition } from '../../src/infrastructure/postgres/event-store/committed-head.js';
import { inTransaction } from '../../src/infrastructure/postgres/projections/transaction.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { SqlDisputeQueries, SqlProviderPaymentIndex } from '../../src/projections/disputes/dispute-queries.js';
import { disputesProjection } from '../../src/projections/disputes/disputes-projection.js';
import { projectionSchema } from '../../src/projections/projection.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually } from './support/test-projections.js';

/*
 * The disputes read model against real PostgreSQL, fed by the real dispute handler: the
 * processor-id index (a dispute that arrives right after its payment waits for the index),
 * the rows, the list queries, replay, audit and rebuild.
 */

const SCHEMA = projectionSchema('disputes');
const USD = toCurrencyCode('USD');
let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let handlers: DisputeCommandHandlers;
let queries: SqlDisputeQueries;

const pay = (n: number): PaymentId => toPaymentId(`pay_01JF00000000000000000000${n}0`);
const metadata = () => ({ correlationId: 'c', causationId: null, actor: 't', occurredAt: new Date().toISOString(), schemaVersion: 1 });

async function payment(n: number, customerId: string, amount: number): Promise<void> {
  const ref = { paymentId: pay(n), customerId, currency: USD };
  await service.eventStore.append(
    `payment-${pay(n)}`,
    [
      { id: randomUUID(), type: 'PaymentAuthorized', data: { ...ref, amount, paymentMethod: 'pm_card_visa', captureMethod: 'manual', providerPaymentId: `pi_${n}`, description: null, metadata: {} }, metadata: metadata() },
      { id: randomUUID(), type: 'PaymentCaptured', data: { ...ref, amount, amountReleased: 0 }, metadata: metadata() },
    ],
    'no_stream',
  );
}

const snapshot = (n: number, overrides: Partial<ProviderDisputeSnapshot> = {}): ProviderDisputeSnapshot => ({
  providerDisputeId: `dp_p_${n}`,
  providerPaymentId: `pi_${n}`,
  amount: 1_000,
  currency: USD,
  status: 'needs_response',
  reason: 'fraudulent',
  feeAmount: 1_500,
  evidenceDueBy: '2026-12-05T00:00:00.000Z',
  createdAt: `2026-11-2${n}T00:00:00.000Z`,
  ...overrides,
});

beforeAll(async () => {
  t = await projectionTestDatabase('disputes_projection');
  service = t.instance('disputes');
  // As the service does at start: the schema exists before any query or command reads it.
  await service.store.register(disputesProjection);
  runner = new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [disputesProjection] }, { leaseRetryMs: 100 });
  runner.start();
  const index = new SqlProviderPaymentIndex(
    sqlExecutor(service.pool),
    // As the service does: the newest committed write, not the newest readable one.
    () => committedHeadPosition(service.pool),
    async (position: Position, timeoutMs: number) => {
      await eventually(() => reached(service.pool, 'disputes', position), timeoutMs, 'the processor-id index');
      return true;
    },
  );
  handlers = new DisputeCommandHandlers(service.eventStore, index, new SystemClock(), new SystemIdGenerator(), undefined);
  queries = new SqlDisputeQueries(sqlExecutor(service.pool));
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

describe('disputes read model', () => {
  let first: string;
  let last: Position;

  it('finds a payment by the processor\'s id even right after it was written, and shows each dispute', async () => {
    await payment(1, 'cus_a', 5_000);
    await payment(2, 'cus_b', 2_000);
    const a = await handlers.syncFromProvider(snapshot(1), { correlationId: 'c', actor: 'test' });
    expect(a).toMatchObject({ ok: true, value: { paymentId: pay(1), changed: true } });
    const b = await handlers.syncFromProvider(snapshot(2, { status: 'warning_needs_response', feeAmount: 0 }), { correlationId: 'c', actor: 'test' });
    const lost = await handlers.syncFromProvider(snapshot(1, { status: 'lost' }), { correlationId: 'c', actor: 'test' });
    if (!a.ok || !b.ok || !lost.ok || !lost.value.position) throw new Error('sync failed');
    first = a.value.disputeId;
    last = lost.value.position;
    await eventually(() => reached(service.pool, 'disputes', last), 10_000, 'disputes caught up');

    expect(await queries.get(first)).toMatchObject({ id: first, object: 'dispute', paymentId: pay(1), customerId: 'cus_a', amount: 1_000, status: 'lost', feeAmount: 1_500, revision: '1' });
    const byCustomer = await queries.list({ customerId: 'cus_b' });
    expect(byCustomer.ok && byCustomer.value.data.map((d) => d.status)).toEqual(['warning_needs_response']);
    const byStatus = await queries.list({ status: 'lost' });
    expect(byStatus.ok && byStatus.value.data.map((d) => d.id)).toEqual([first]);
    const summaries = await queries.forPayments([pay(1), pay(2), pay(3)]);
    expect(summaries.get(pay(1))).toEqual([{ id: first, status: 'lost', amount: 1_000, reason: 'fraudulent' }]);
    expect(summaries.has(pay(3))).toBe(false);
    expect((await service.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.dispute_payment_refs`)).rows[0].n).toBe(2);
  });

  it('is idempotent under replay, and audits and rebuilds to the same rows', async () => {
    const before = (await service.pool.query(`SELECT * FROM ${SCHEMA}.disputes ORDER BY id`)).rows;
    const events = (await service.eventStore.readAll({ maxCount: 1_000 })).filter((e) => disputesProjection.eventTypes.includes(e.type));
    const replayed = await inTransaction(service.pool, async (client) => {
      await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
      return { commit: true, value: await disputesProjection.applyBatch!(sqlExecutor(client), events) };
    });
    expect(replayed).toEqual([]);
    expect((await service.pool.query(`SELECT * FROM ${SCHEMA}.disputes ORDER BY id`)).rows).toEqual(before);
    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [disputesProjection] }, { batchSize: 2 });
    const audit = await rebuilder.audit('disputes');
    expect(audit.ok && audit.value.matches).toBe(true);
    expect((await rebuilder.rebuild('disputes')).ok).toBe(true);
    expect((await service.pool.query(`SELECT * FROM ${SCHEMA}.disputes ORDER BY id`)).rows).toEqual(before);
  });
});

describe('the processor-id index under the xmin horizon', () => {
  it('finds a payment written while another transaction holds the readable horizon back (a miss waits for every committed write)', async () => {
    // An open transaction with an xid keeps readers below it: the payment written next is
    // committed but not yet readable, so the log's readable head is before it.
    const blocker = await service.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      await payment(9, 'cus_h', 3_000);
      const released = new Promise((resolve) => setTimeout(resolve, 300)).then(() => blocker.query('COMMIT'));
      const result = await handlers.syncFromProvider(snapshot(9), { correlationId: 'c', actor: 'test' });
      await released;
      expect(result).toMatchObject({ ok: true, value: { paymentId: pay(9), changed: true } });
    } finally {
      blocker.release();
    }
  });

});
