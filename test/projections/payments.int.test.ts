import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentView } from '../../src/application/payments/payment-view.js';
import { toPaymentView } from '../../src/application/payments/payment-view.js';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { comparePositions } from '../../src/application/ports/position.js';
import type { PaymentId } from '../../src/domain/ids.js';
import { toPaymentId } from '../../src/domain/ids.js';
import { moneyOf } from '../../src/domain/money.js';
import type { CreatePayment, PaymentCommand, PaymentEvent, PaymentState } from '../../src/domain/payment/index.js';
import { decide, fold, initialState } from '../../src/domain/payment/index.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { encodeTimeOrdered } from '../../src/infrastructure/system/crockford.js';
import { SqlPaymentQueries } from '../../src/projections/payments/payment-queries.js';
import { paymentsProjection } from '../../src/projections/payments/payments-projection.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually } from './support/test-projections.js';

let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let queries: SqlPaymentQueries;
const baseTime = Date.UTC(2025, 0, 1);
let clock = 0;

/** The stream as the write side sees it, to compare the read model with. */
const streams = new Map<string, { events: PaymentEvent[]; occurredAt: string[] }>();

const nextId = (): PaymentId => toPaymentId(`pay_${encodeTimeOrdered(baseTime + ++clock * 1_000, randomBytes(10))}`);
const nextTime = (): string => new Date(baseTime + ++clock * 1_000).toISOString();

/** Decides, appends, and remembers: one command against one payment stream. */
async function run(store: EventStore, paymentId: PaymentId, command: PaymentCommand): Promise<Position> {
  const stream = streams.get(paymentId) ?? { events: [], occurredAt: [] };
  const state: PaymentState = fold(stream.events, initialState);
  const decided = decide(state, command);
  if (!decided.ok) throw new Error(`command refused: ${decided.error.code}`);
  const occurredAt = nextTime();
  const result = await store.append(
    `payment-${paymentId}`,
    decided.value.map((e) => ({
      id: crypto.randomUUID(),
      type: e.type,
      data: e.data,
      metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt, schemaVersion: 1 },
    })),
    stream.events.length === 0 ? 'no_stream' : streamRevision(stream.events.length - 1),
  );
  stream.events.push(...decided.value);
  stream.occurredAt.push(...decided.value.map(() => occurredAt));
  streams.set(paymentId, stream);
  return result.position;
}

function expectedView(paymentId: string): PaymentView {
  const stream = streams.get(paymentId)!;
  const state = fold(stream.events, initialState);
  if (!state.exists) throw new Error('no such payment');
  return toPaymentView(state, BigInt(stream.events.length - 1), stream.occurredAt[0]!, stream.occurredAt.at(-1)!);
}

const create = (paymentId: PaymentId, overrides: Partial<CreatePayment> = {}): CreatePayment => ({
  type: 'CreatePayment',
  paymentId,
  customerId: 'cus_alice',
  amount: moneyOf(10_000, 'USD'),
  paymentMethod: 'pm_card_visa',
  captureMethod: 'manual',
  description: null,
  metadata: {},
  authorization: { status: 'approved', providerPaymentId: `pi_${paymentId}` },
  ...overrides,
});

const ids = {
  authorized: nextId(),
  partial: nextId(),
  automatic: nextId(),
  declined: nextId(),
  canceled: nextId(),
  bob1: nextId(),
  bob2: nextId(),
};

beforeAll(async () => {
  t = await projectionTestDatabase('payments_projection');
  service = t.instance('payments');
  const s = service.eventStore;
  await run(s, ids.authorized, create(ids.authorized, { description: 'a lamp', metadata: { order: 'o-1' } }));
  await run(s, ids.partial, create(ids.partial, { amount: moneyOf(5_000, 'EUR') }));
  await run(s, ids.partial, { type: 'CapturePayment', paymentId: ids.partial, amount: 3_000 });
  await run(s, ids.automatic, create(ids.automatic, { captureMethod: 'automatic', amount: moneyOf(1_250, 'JPY') }));
  await run(
    s,
    ids.declined,
    create(ids.declined, {
      paymentMethod: 'pm_card_chargeDeclined',
      authorization: { status: 'declined', providerPaymentId: null, failureCode: 'card_declined', declineCode: 'insufficient_funds', message: 'Declined.' },
    }),
  );
  await run(s, ids.canceled, create(ids.canceled));
  await run(s, ids.canceled, { type: 'CancelPayment', paymentId: ids.canceled, reason: 'requested_by_customer' });
  await run(s, ids.bob1, create(ids.bob1, { customerId: 'cus_bob' }));
  const last = await run(s, ids.bob2, create(ids.bob2, { customerId: 'cus_bob', captureMethod: 'automatic' }));
  runner = new ProjectionRunner({ eventStore: s, store: service.store, projections: [paymentsProjection] }, { leaseRetryMs: 100 });
  runner.start();
  await eventually(() => reached(service.pool, 'payments', last), 10_000, 'payments caught up');
  queries = new SqlPaymentQueries(sqlExecutor(service.pool));
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

describe('payments read model', () => {
  it('holds each payment exactly as the write side shows it', async () => {
    for (const id of Object.values(ids)) expect(await queries.get(id)).toEqual(expectedView(id));
    expect(await queries.get(ids.partial)).toMatchObject({ status: 'succeeded', amountCaptured: 3_000, amountReleased: 2_000, amountCapturable: 0, revision: '1' });
    expect(await queries.get(ids.declined)).toMatchObject({
      status: 'failed',
      failure: { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Declined.' },
    });
    expect(await queries.get(ids.canceled)).toMatchObject({ status: 'canceled', cancellationReason: 'requested_by_customer', amountReleased: 10_000 });
    expect(await queries.get(ids.authorized)).toMatchObject({ description: 'a lamp', metadata: { order: 'o-1' } });
    expect(await queries.get('pay_00000000000000000000000000')).toBeUndefined();
  });

  it('announces every change on the payment and customer topics, created first, then updated', async () => {
    const { rows } = await service.pool.query<{ topic: string; type: string; data: PaymentView }>(
      `SELECT topic, type, data FROM realtime_changes WHERE topic IN ($1, 'customer:cus_alice') ORDER BY id`,
      [`payment:${ids.partial}`],
    );
    const partial = rows.filter((r) => r.data.id === ids.partial);
    expect(partial.map((r) => [r.topic, r.type])).toEqual([
      [`payment:${ids.partial}`, 'payment.created'],
      ['customer:cus_alice', 'payment.created'],
      [`payment:${ids.partial}`, 'payment.updated'],
      ['customer:cus_alice', 'payment.updated'],
    ]);
    expect(partial[0]!.data).toMatchObject({ status: 'requires_capture', amountCapturable: 5_000, revision: '0' });
    expect(partial[3]!.data).toEqual(expectedView(ids.partial));
    // Each row carries the position of the event that caused it.
    const positions = await service.pool.query<{ n: string }>(
      `SELECT count(DISTINCT (position_commit, position_prepare)) AS n FROM realtime_changes WHERE topic = $1`,
      [`payment:${ids.automatic}`],
    );
    expect(Number(positions.rows[0]!.n)).toBe(2);
  });

  it('lists newest first with filters and keyset pages, and refuses a forged cursor', async () => {
    const all = await queries.list({});
    expect(all.ok && all.value.data.map((p) => p.id)).toEqual(Object.values(ids).reverse());
    expect(all.ok && all.value.nextCursor).toBeNull();

    const bob = await queries.list({ customerId: 'cus_bob' });
    expect(bob.ok && bob.value.data.map((p) => p.id)).toEqual([ids.bob2, ids.bob1]);
    const capturable = await queries.list({ status: 'requires_capture' });
    expect(capturable.ok && capturable.value.data.map((p) => p.id)).toEqual([ids.bob1, ids.authorized]);
    const aliceSucceeded = await queries.list({ customerId: 'cus_alice', status: 'succeeded' });
    expect(aliceSucceeded.ok && aliceSucceeded.value.data.map((p) => p.id)).toEqual([ids.automatic, ids.partial]);

    const walked: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queries.list({ customerId: 'cus_alice', limit: 2, cursor });
      if (!page.ok) throw new Error('unexpected invalid cursor');
      expect(page.value.data.length).toBeLessThanOrEqual(2);
      walked.push(...page.value.data.map((p) => p.id));
      cursor = page.value.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(walked).toEqual([ids.canceled, ids.declined, ids.automatic, ids.partial, ids.authorized]);
    expect(pages).toBe(3);

    expect(await queries.list({ cursor: 'definitely-not-ours' })).toEqual({ ok: false, error: { code: 'invalid_cursor', message: expect.any(String) as string } });
    const clamped = await queries.list({ limit: 1_000 });
    expect(clamped.ok && clamped.value.data).toHaveLength(7);
    const tiny = await queries.list({ limit: 0 });
    expect(tiny.ok && tiny.value.data).toHaveLength(1);
  });

  it('is idempotent under replay and refuses an update for a payment it never saw', async () => {
    const before = await service.pool.query('SELECT * FROM rm_payments.payments ORDER BY id');
    const events = (await service.eventStore.readAll({ maxCount: 1_000 })).filter((e) => paymentsProjection.eventTypes.includes(e.type));
    const client = await service.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL search_path TO rm_payments');
      const sql = sqlExecutor(client);
      for (const event of events) expect(await paymentsProjection.apply(sql, event)).toEqual([]);
      await client.query('COMMIT');

      const stranger: RecordedEvent = { ...events.find((e) => e.type === 'PaymentCaptured')!, data: { paymentId: 'pay_7ZZZZZZZZZZZZZZZZZZZZZZZZZ', customerId: 'x', amount: 1, currency: 'USD', amountReleased: 0 } };
      await client.query('BEGIN');
      await client.query('SET LOCAL search_path TO rm_payments');
      await expect(paymentsProjection.apply(sql, stranger)).rejects.toThrow(/not in the read model/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await service.pool.query('SELECT * FROM rm_payments.payments ORDER BY id')).rows).toEqual(before.rows);
  });

  it('keeps money consistent with CHECK constraints', async () => {
    await expect(service.pool.query('UPDATE rm_payments.payments SET amount_captured = amount + 1 WHERE id = $1', [ids.authorized])).rejects.toThrow(/payments_settled_within_amount/);
    await expect(service.pool.query('UPDATE rm_payments.payments SET amount_released = -1 WHERE id = $1', [ids.authorized])).rejects.toThrow(/check constraint/);
    await expect(service.pool.query(`UPDATE rm_payments.payments SET status = 'paid' WHERE id = $1`, [ids.authorized])).rejects.toThrow(/payments_status_known/);
  });

  it('rebuilds and audits to the same rows while queries keep answering', async () => {
    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [paymentsProjection] }, { batchSize: 3 });
    const audit = await rebuilder.audit('payments');
    expect(audit.ok && audit.value.matches).toBe(true);
    let reads = 0;
    const reading = (async () => {
      for (let i = 0; i < 20; i++) {
        expect(await queries.get(ids.partial)).toEqual(expectedView(ids.partial));
        reads += 1;
      }
    })();
    const rebuilt = await rebuilder.rebuild('payments');
    await reading;
    expect(rebuilt.ok).toBe(true);
    expect(reads).toBe(20);
    for (const id of Object.values(ids)) expect(await queries.get(id)).toEqual(expectedView(id));

    // Still live after the switch.
    const extra = nextId();
    const at = await run(service.eventStore, extra, create(extra, { customerId: 'cus_carol' }));
    await eventually(() => reached(service.pool, 'payments', at), 10_000, 'live after the rebuild');
    expect(await queries.get(extra)).toEqual(expectedView(extra));
    const [record] = await service.store.read(['payments']);
    expect(comparePositions(record!.checkpoint, at)).toBeGreaterThanOrEqual(0);
  });
});
