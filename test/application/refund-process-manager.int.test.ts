import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { loadPayment } from '../../src/application/payments/payment-stream.js';
import type { EventStore } from '../../src/application/ports/event-store.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import { RefundCommandHandlers } from '../../src/application/refunds/refund-command-handlers.js';
import { RefundProcessManager, UNRESOLVED_FAILURE_REASON } from '../../src/application/refunds/refund-process-manager.js';
import { RefundSteps } from '../../src/application/refunds/refund-steps.js';
import { loadRefund } from '../../src/application/refunds/refund-stream.js';
import type { PaymentId, RefundId } from '../../src/domain/ids.js';
import { moneyOf } from '../../src/domain/money.js';
import { amountReserved } from '../../src/domain/payment/index.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SqlPaymentQueries } from '../../src/projections/payments/payment-queries.js';
import { paymentsProjection } from '../../src/projections/payments/payments-projection.js';
import { SqlRefundWorkQueue, refundWorkProjection } from '../../src/projections/refund-work/refund-work-projection.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Instance, ProjectionTestDatabase } from '../projections/support/postgres-setup.js';
import { count, projectionTestDatabase, reached } from '../projections/support/postgres-setup.js';
import { eventually } from '../projections/support/test-projections.js';

const ctx: CommandContext = { correlationId: 'req', actor: 'test' };

/** The simulated processor with switches: refunds unreachable; an append to refund streams that crashes once. */
class SwitchedProvider extends SimulatedPaymentProvider {
  refundsDown = false;
  override refund(request: Parameters<SimulatedPaymentProvider['refund']>[0]) {
    return this.refundsDown ? Promise.reject(new ProviderUnavailable('down')) : super.refund(request);
  }
  override retrieveRefund(id: string) {
    return this.refundsDown ? Promise.reject(new ProviderUnavailable('down')) : super.retrieveRefund(id);
  }
}

/** The real store, except that the next append to a refund stream throws (a crash right after the reservation). */
function crashingStore(inner: EventStore): EventStore & { crashNextRefundAppend: boolean } {
  const store = {
    crashNextRefundAppend: false,
    async append(...args: Parameters<EventStore['append']>) {
      if (args[0].startsWith('refund-') && store.crashNextRefundAppend) {
        store.crashNextRefundAppend = false;
        throw new Error('crash: process died before the refund stream was written');
      }
      return inner.append(...args);
    },
    readStream: (...args: Parameters<EventStore['readStream']>) => inner.readStream(...args),
    readAll: (...args: Parameters<EventStore['readAll']>) => inner.readAll(...args),
    subscribeToAll: (...args: Parameters<EventStore['subscribeToAll']>) => inner.subscribeToAll(...args),
    headPosition: () => inner.headPosition(),
    close: () => inner.close(),
  };
  return store;
}

let t: ProjectionTestDatabase;
let a: Instance;
let runner: ProjectionRunner;
const provider = new SwitchedProvider();
let store: EventStore & { crashNextRefundAppend: boolean };
let payments: PaymentCommandHandlers;
let refunds: RefundCommandHandlers;
let manager: RefundProcessManager;

beforeAll(async () => {
  t = await projectionTestDatabase('refund_pm');
  a = t.instance('a');
  store = crashingStore(a.eventStore);
  const clock = new SystemClock();
  const ids = new SystemIdGenerator();
  payments = new PaymentCommandHandlers(store, provider, clock, ids);
  refunds = new RefundCommandHandlers(store, provider, clock, ids);
  manager = new RefundProcessManager(
    store,
    new SqlRefundWorkQueue(sqlExecutor(a.pool)),
    new RefundSteps(store, provider, clock, ids),
    { maxProviderAttempts: 3, retryMinMs: 10, retryMaxMs: 20, batchSize: 20, claimLeaseMs: 30_000, idlePollMs: 20 },
  );
  // No grace in tests: the worker may act on a row as soon as the projection wrote it.
  runner = new ProjectionRunner({ eventStore: a.eventStore, store: a.store, projections: [paymentsProjection, refundWorkProjection(0)] }, { leaseRetryMs: 100 });
  runner.start();
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

async function capturedPayment(paymentMethod = 'pm_card_visa', amount = 10_000): Promise<PaymentId> {
  const created = await payments.create({ customerId: 'cus_1', amount: moneyOf(amount, 'USD'), paymentMethod, captureMethod: 'automatic', description: null, metadata: {} }, ctx);
  if (!created.ok) throw new Error(created.error.code);
  return created.value.payment.id;
}

/** Lets the projection catch up with the log, then works the queue, until `done` or the bound. */
async function drive(done: () => Promise<boolean>): Promise<void> {
  const MAX_ROUNDS = 200;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const head = await a.eventStore.headPosition();
    await eventually(() => reached(a.pool, 'refund_work', head), 10_000, 'refund_work caught up');
    if (await done()) return;
    await manager.runOnce();
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the process manager did not finish in time');
}

const refundStatus = async (id: RefundId) => {
  const r = await loadRefund(store, `refund-${id}`);
  return r.state.exists ? r.state : undefined;
};
const paymentState = async (id: PaymentId) => {
  const p = (await loadPayment(store, `payment-${id}`)).state;
  if (!p.exists) throw new Error('payment expected');
  return p;
};
const refundIdsOf = async (id: PaymentId): Promise<RefundId[]> => Object.keys((await paymentState(id)).refundReservations) as RefundId[];

describe('refund process manager', () => {
  it('a crash after the reservation: the manager creates the refund from the reservation, refunds it and settles', async () => {
    const paymentId = await capturedPayment();
    store.crashNextRefundAppend = true;
    await expect(refunds.create({ paymentId, amount: 3_000, reason: 'duplicate', metadata: { k: 'v' } }, ctx)).rejects.toThrow(/crash/);
    const [refundId] = await refundIdsOf(paymentId);
    if (!refundId) throw new Error('the reservation should be there');
    expect(await refundStatus(refundId)).toBeUndefined();
    expect(amountReserved(await paymentState(paymentId))).toBe(3_000);

    await drive(async () => amountReserved(await paymentState(paymentId)) === 0);
    expect(await refundStatus(refundId)).toMatchObject({ status: 'succeeded', amount: 3_000, reason: 'duplicate', metadata: { k: 'v' } });
    expect(await paymentState(paymentId)).toMatchObject({ status: 'partially_refunded', amountRefunded: 3_000 });
    const requested = (await store.readStream(`refund-${refundId}`)).events[0];
    expect(requested?.metadata).toMatchObject({ actor: 'refund-process-manager' });
    await eventually(async () => (await count(a.pool, 'rm_refund_work.refund_work')) === 0, 5_000, 'work done');
  });

  it('a provider that was unreachable: the refund answered pending, the manager asks again and settles', async () => {
    const paymentId = await capturedPayment();
    provider.refundsDown = true;
    const created = await refunds.create({ paymentId, amount: 1_000, reason: null, metadata: {} }, ctx);
    provider.refundsDown = false;
    if (!created.ok) throw new Error(created.error.code);
    expect(created.value.refund.status).toBe('pending');
    await drive(async () => (await refundStatus(created.value.refund.id))?.status === 'succeeded' && amountReserved(await paymentState(paymentId)) === 0);
    expect(await paymentState(paymentId)).toMatchObject({ amountRefunded: 1_000 });
  });

  it('pm_card_refundFail: pending at first, then failed with expired_or_canceled_card, and the reservation released', async () => {
    const paymentId = await capturedPayment('pm_card_refundFail');
    const created = await refunds.create({ paymentId, amount: 10_000, reason: null, metadata: {} }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    expect(created.value.refund.status).toBe('pending');
    await drive(async () => amountReserved(await paymentState(paymentId)) === 0);
    expect(await refundStatus(created.value.refund.id)).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
    expect(await paymentState(paymentId)).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    // Its money is refundable again.
    expect(await refunds.create({ paymentId, amount: 10_000, reason: null, metadata: {} }, ctx)).toMatchObject({ ok: true });
  });

  it('a processor that never answers: after the last attempt the refund fails and its reservation is released', async () => {
    const paymentId = await capturedPayment();
    provider.refundsDown = true;
    try {
      const created = await refunds.create({ paymentId, amount: 500, reason: null, metadata: {} }, ctx);
      if (!created.ok) throw new Error(created.error.code);
      await drive(async () => amountReserved(await paymentState(paymentId)) === 0);
      expect(await refundStatus(created.value.refund.id)).toMatchObject({ status: 'failed', failureReason: UNRESOLVED_FAILURE_REASON });
    } finally {
      provider.refundsDown = false;
    }
  });

  it('two instances on one database, 20 concurrent refunds: never more than captured, and after the manager refunded + reserved = accepted', async () => {
    const paymentId = await capturedPayment('pm_card_visa', 10_000);
    const b = t.instance('b');
    const clock = new SystemClock();
    const ids = new SystemIdGenerator();
    const handlers = [refunds, new RefundCommandHandlers(b.eventStore, provider, clock, ids)];
    const amounts = Array.from({ length: 20 }, () => 100 + Math.floor(Math.random() * 1_400));
    const results = await Promise.all(amounts.map((amount, i) => handlers[i % 2]!.create({ paymentId, amount, reason: null, metadata: {} }, ctx)));
    const accepted = results.flatMap((r) => (r.ok ? [r.value.refund.amount] : []));
    for (const r of results) if (!r.ok) expect(['amount_exceeds_refundable', 'concurrency_conflict']).toContain(r.error.code);
    const sum = accepted.reduce((s, x) => s + x, 0);
    expect(sum).toBeLessThanOrEqual(10_000);
    await drive(async () => amountReserved(await paymentState(paymentId)) === 0);
    const p = await paymentState(paymentId);
    expect(p.amountRefunded + amountReserved(p)).toBe(sum);
    expect(p.amountRefunded).toBe(sum);
    // The payments read model folds the same reservation events: the same amountRefunded, and no CHECK refused a row.
    const queries = new SqlPaymentQueries(sqlExecutor(a.pool));
    await eventually(async () => (await queries.get(paymentId))?.amountRefunded === sum, 10_000, 'payments read model caught up');
    expect(await queries.get(paymentId)).toMatchObject({ status: sum === 10_000 ? 'refunded' : 'partially_refunded' });
  });

  it('replay = same rows: both projections audit with zero differences once the work is done', async () => {
    await eventually(async () => (await count(a.pool, 'rm_refund_work.refund_work')) === 0, 10_000, 'work done');
    const head = await a.eventStore.headPosition();
    await eventually(async () => (await reached(a.pool, 'payments', head)) && (await reached(a.pool, 'refund_work', head)), 10_000, 'caught up');
    const rebuilder = new ProjectionRebuilder({ eventStore: a.eventStore, store: a.store, projections: [paymentsProjection, refundWorkProjection(0)] }, { batchSize: 7 });
    for (const name of ['payments', 'refund_work']) {
      const audit = await rebuilder.audit(name);
      expect(audit.ok && audit.value.matches, `${name}: ${JSON.stringify(audit)}`).toBe(true);
    }
  });
});
