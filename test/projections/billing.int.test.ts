import type pg from 'pg';
import { inMemoryBilling } from '../support/in-memory-billing.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { billingProjection } from '../../src/projections/billing/billing-projection.js';
import { SqlBillingQueries } from '../../src/projections/billing/billing-queries.js';
import { SqlDueWorkSource } from '../../src/projections/billing/due-work-queries.js';
import { LogDueWorkSource } from '../support/in-memory-due-work.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * The billing read model against real PostgreSQL: fed the log of a billing scenario (run in
 * memory with the real handlers), in small batches, it gives the billing clock the same due
 * work as folding the whole log does; applied again, it changes nothing and announces nothing.
 */

const ctx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };
let db: TestDatabase;
let client: pg.PoolClient;

beforeAll(async () => {
  db = await createTestDatabase('billing_rm');
  client = await db.pool.connect();
  await client.query('CREATE SCHEMA rm_billing');
  await client.query('SET search_path = rm_billing');
  await client.query(billingProjection.schemaSql);
});
afterAll(async () => {
  client?.release();
  await db?.drop();
});

async function scenario(): Promise<{ events: readonly RecordedEvent[]; clockId: string }> {
  const { store, subscriptions, settle, clocks } = inMemoryBilling();
  const created = await clocks.create(new Date('2026-01-15T12:00:00Z'), null, ctx);
  if (!created.ok) throw new Error(created.error.code);
  const clockId = created.value.testClockId;
  const price = { amount: 1_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };
  for (const [customerId, paymentMethod, trialDays] of [
    ['cus_ok', 'pm_card_visa', null],
    ['cus_declined', 'pm_card_chargeDeclinedInsufficientFunds', null],
    ['cus_trial', 'pm_card_visa', 10],
  ] as const) {
    const sub = await subscriptions.create({ customerId, price, paymentMethod, trialDays, metadata: {}, testClock: clockId }, ctx);
    if (!sub.ok) throw new Error(sub.error.code);
  }
  await settle();
  // A renewal for the good card; the declined first invoice retries on day 1 and 3; the trial ends.
  await clocks.advance(clockId, new Date('2026-02-17T00:00:00Z'), ctx);
  return { events: [...store.events], clockId };
}

const billingEvents = (events: readonly RecordedEvent[]): RecordedEvent[] => events.filter((e) => e.streamId.startsWith('subscription-') || e.streamId.startsWith('invoice-'));

describe('the billing read model', () => {
  it('gives the clock the same due work as the log, and a replay changes and announces nothing', async () => {
    const { events, clockId } = await scenario();
    const log = billingEvents(events);
    const sql = sqlExecutor(client);
    let announced = 0;
    for (let at = 0; at < log.length; at += 3) announced += (await billingProjection.applyBatch!(sql, log.slice(at, at + 3))).length;
    // One change per event, and one more per invoice issued: its subscription's latestInvoice moves on.
    expect(announced).toBe(log.length + log.filter((e) => e.type === 'InvoiceIssued').length);

    const fromReadModel = new SqlDueWorkSource(sql);
    const fromLog = new LogDueWorkSource(events);
    for (const until of ['2026-02-17T00:00:00Z', '2026-03-01T00:00:00Z', '2026-06-01T00:00:00Z']) {
      const expected = await fromLog.dueWork(clockId, new Date(until), 100);
      expect(await fromReadModel.dueWork(clockId, new Date(until), 100)).toEqual(expected);
    }
    // Something is due in March (the renewals), nothing on the real clock.
    expect((await fromReadModel.dueWork(clockId, new Date('2026-03-01T00:00:00Z'), 100)).length).toBeGreaterThan(0);
    expect(await fromReadModel.dueWork(null, new Date('2030-01-01T00:00:00Z'), 100)).toEqual([]);

    const before = (await client.query('SELECT * FROM subscriptions ORDER BY id')).rows.concat((await client.query('SELECT * FROM invoices ORDER BY id')).rows);
    expect((await billingProjection.applyBatch!(sql, log)).length).toBe(0);
    const after = (await client.query('SELECT * FROM subscriptions ORDER BY id')).rows.concat((await client.query('SELECT * FROM invoices ORDER BY id')).rows);
    expect(after).toEqual(before);
    // The lists: by customer, by status, paged with the cursor they hand out.
    const queries = new SqlBillingQueries(sql);
    const mine = await queries.subscriptions({ customerId: 'cus_ok' });
    expect(mine.ok && mine.value.data.map((r) => r.state.customerId)).toEqual(['cus_ok']);
    const first = await queries.subscriptions({ limit: 2 });
    if (!first.ok || first.value.nextCursor === null) throw new Error('expected a second page');
    const second = await queries.subscriptions({ limit: 2, cursor: first.value.nextCursor });
    expect(second.ok && second.value.data).toHaveLength(1);
    expect(second.ok && second.value.nextCursor).toBeNull();
    expect(await queries.subscriptions({ cursor: 'garbage' })).toMatchObject({ ok: false, error: { code: 'invalid_cursor' } });
    const voided = await queries.invoices({ status: 'void' });
    expect(voided.ok && voided.value.data.map((r) => r.state.customerId)).toEqual(['cus_declined']);
    const invoice = voided.ok ? voided.value.data[0] : undefined;
    expect(await queries.invoice(invoice?.state.invoiceId ?? '')).toEqual(invoice);
    const statuses = (await client.query<{ customer_id: string; status: string }>('SELECT customer_id, status FROM subscriptions ORDER BY customer_id')).rows;
    expect(statuses).toEqual([
      { customer_id: 'cus_declined', status: 'incomplete_expired' },
      { customer_id: 'cus_ok', status: 'active' },
      { customer_id: 'cus_trial', status: 'active' },
    ]);
  });
});
