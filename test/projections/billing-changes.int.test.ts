import type pg from 'pg';
import { billingStepsFor } from '../support/billing-steps.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { BillingClock, TestClocks } from '../../src/application/subscriptions/billing-clock.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { ClockBillingTime } from '../../src/application/subscriptions/billing-time.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceState } from '../../src/domain/invoice/index.js';
import { evolveInvoice, upcastInvoiceEvent } from '../../src/domain/invoice/index.js';
import type { SubscriptionState } from '../../src/domain/subscription/index.js';
import { evolveSubscription, upcastSubscriptionEvent } from '../../src/domain/subscription/index.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { billingProjection } from '../../src/projections/billing/billing-projection.js';
import { SqlBillingQueries } from '../../src/projections/billing/billing-queries.js';
import type { PositionedProjectionChange } from '../../src/projections/projection.js';
import { LogDueWorkSource } from '../support/in-memory-due-work.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * What the billing read model announces (the `change` messages on `subscription:<id>`,
 * `invoice:<id>` and `customer:<id>`): one change per event, whose data is the
 * subscription or invoice as it stood at that event — even when the batch goes on to
 * change it again — and, for the last change of each, what SqlBillingQueries reads.
 */

const ctx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };
let db: TestDatabase;
let client: pg.PoolClient;

beforeAll(async () => {
  db = await createTestDatabase('billing_changes');
  client = await db.pool.connect();
  await client.query('CREATE SCHEMA rm_billing');
  await client.query('SET search_path = rm_billing');
  await client.query(billingProjection.schemaSql);
});
afterAll(async () => {
  client?.release();
  await db?.drop();
});

async function scenario(): Promise<readonly RecordedEvent[]> {
  const store = new InMemoryEventStore();
  const ids = new SystemIdGenerator();
  const realNow = () => new Date('2030-01-01T00:00:00Z');
  const subscriptions = new SubscriptionCommandHandlers(store, new ClockBillingTime({ now: realNow }, store), ids);
  const steps = billingStepsFor(store, subscriptions, ids, { now: realNow });
  const process = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  let cursor = 0;
  const settle = async (): Promise<void> => {
    for (; cursor < store.events.length; cursor++) await process.handle(store.events[cursor] as RecordedEvent);
  };
  const clocks = new TestClocks(store, new BillingClock(new LogDueWorkSource(store.events), subscriptions, steps, { begin: () => Promise.resolve({ settle }) }), ids, realNow);
  const clock = await clocks.create(new Date('2026-01-15T12:00:00Z'), null, ctx);
  if (!clock.ok) throw new Error(clock.error.code);
  const price = { amount: 1_000, currency: toCurrencyCode('EUR'), interval: 'month' as const, intervalCount: 1 };
  for (const [customerId, paymentMethod] of [['cus_ok', 'pm_card_visa'], ['cus_declined', 'pm_card_chargeDeclinedInsufficientFunds']] as const) {
    const s = await subscriptions.create({ customerId, price, paymentMethod, trialDays: null, metadata: { z: '1', a: '2' }, testClock: clock.value.testClockId }, ctx);
    if (!s.ok) throw new Error(s.error.code);
  }
  await settle();
  await clocks.advance(clock.value.testClockId, new Date('2026-02-20T00:00:00Z'), ctx);
  return store.events.filter((e) => e.streamId.startsWith('subscription-') || e.streamId.startsWith('invoice-'));
}

/** The aggregate's state right after `upTo`, folded from the log alone. */
function stateAt(log: readonly RecordedEvent[], upTo: RecordedEvent): SubscriptionState | InvoiceState {
  const mine = log.slice(0, log.indexOf(upTo) + 1).filter((e) => e.streamId === upTo.streamId);
  return upTo.streamId.startsWith('subscription-')
    ? mine.reduce<SubscriptionState>((s, e) => evolveSubscription(s, upcastSubscriptionEvent(e.type, e.data, e.metadata.schemaVersion)), { exists: false })
    : mine.reduce<InvoiceState>((s, e) => evolveInvoice(s, upcastInvoiceEvent(e.type, e.data, e.metadata.schemaVersion)), { exists: false });
}

describe('billing read model changes', () => {
  it('carry the state at their own event, on the subscription\'s, invoice\'s and customer\'s topics; the last one is what the queries read', async () => {
    const log = await scenario();
    const sql = sqlExecutor(client);
    const changes: PositionedProjectionChange[] = [];
    // Batches of 7: a subscription's or invoice's several events in one batch.
    for (let at = 0; at < log.length; at += 7) changes.push(...(await billingProjection.applyBatch!(sql, log.slice(at, at + 7))));
    expect(changes).toHaveLength(log.length);

    const byPosition = new Map(log.map((e) => [`${e.position.commit}.${e.position.prepare}`, e]));
    const lastChangeOf = new Map<string, PositionedProjectionChange>();
    let sawStaleRisk = false;
    for (const change of changes) {
      const event = byPosition.get(`${change.position.commit}.${change.position.prepare}`)!;
      const expected = stateAt(log, event);
      expect(change.data, `${event.type} at ${change.position.commit}`).toEqual(expected);
      const id = event.streamId.slice(event.streamId.indexOf('-') + 1);
      if (event.streamId.startsWith('subscription-')) {
        const s = expected as SubscriptionState & { exists: true };
        expect(change.topics).toEqual([`subscription:${id}`, `customer:${s.customerId}`]);
        expect(change.type).toBe(event.type === 'SubscriptionCreated' ? 'subscription.created' : 'subscription.updated');
      } else {
        const i = expected as InvoiceState & { exists: true };
        expect(change.topics).toEqual([`invoice:${id}`, `subscription:${i.subscriptionId}`, `customer:${i.customerId}`]);
        expect(change.type).toBe(event.type === 'InvoiceIssued' ? 'invoice.created' : 'invoice.updated');
      }
      if (lastChangeOf.has(id) && JSON.stringify(lastChangeOf.get(id)!.data) !== JSON.stringify(change.data)) sawStaleRisk = true;
      lastChangeOf.set(id, change);
    }
    // The scenario does change an aggregate more than once: otherwise this test could not tell "state at the event" from "state after the batch".
    expect(sawStaleRisk).toBe(true);

    const queries = new SqlBillingQueries(sql);
    for (const [id, change] of lastChangeOf) {
      const row = id.startsWith('sub_') ? await queries.subscription(id) : await queries.invoice(id);
      expect(row?.state, id).toEqual(change.data);
    }
    // Changes come out in log order across both tables.
    const positions = changes.map((c) => c.position.commit);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});
