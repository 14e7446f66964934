import type pg from 'pg';
import { inMemoryBilling } from '../support/in-memory-billing.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { toInvoiceView } from '../../src/application/subscriptions/invoice-view.js';
import { toSubscriptionView } from '../../src/application/subscriptions/subscription-view.js';
import type { ExistingInvoice, InvoiceState } from '../../src/domain/invoice/index.js';
import { evolveInvoice, upcastInvoiceEvent } from '../../src/domain/invoice/index.js';
import type { ExistingSubscription, SubscriptionState } from '../../src/domain/subscription/index.js';
import { evolveSubscription, upcastSubscriptionEvent } from '../../src/domain/subscription/index.js';
import { changeWireData, invoiceWireForm, subscriptionWireForm } from '../../src/infrastructure/http/wire-form.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { billingProjection } from '../../src/projections/billing/billing-projection.js';
import { SqlBillingQueries } from '../../src/projections/billing/billing-queries.js';
import type { PositionedProjectionChange } from '../../src/projections/projection.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * What the billing read model announces (the `change` messages on `subscription:<id>`,
 * `invoice:<id>` and `customer:<id>`): one change per event, whose data is the
 * subscription or invoice as GET shows it at that event (its view) — even when the batch
 * goes on to change it again — plus a subscription change for each invoice issued (its
 * latestInvoice moved on); the last change of each, in its wire form, byte for byte what
 * GET makes of SqlBillingQueries' row.
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
  const { store, subscriptions, settle, clocks } = inMemoryBilling();
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

/** The subscription's newest invoice issued up to `upTo`, from the log alone: the greatest id, bytewise (invoice ids are time-ordered). */
function latestInvoiceAt(log: readonly RecordedEvent[], upTo: RecordedEvent, subscriptionId: string): string | null {
  const ids = log
    .slice(0, log.indexOf(upTo) + 1)
    .filter((e) => e.type === 'InvoiceIssued' && (e.data as { subscriptionId: string }).subscriptionId === subscriptionId)
    .map((e) => (e.data as { invoiceId: string }).invoiceId);
  return ids.length === 0 ? null : ids.reduce((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)) >= 0 ? a : b));
}

/** The subscription's own revision right after `upTo` (an invoice's event does not move it). */
const subscriptionRevisionAt = (log: readonly RecordedEvent[], upTo: RecordedEvent, subscriptionId: string): bigint =>
  log.slice(0, log.indexOf(upTo) + 1).filter((e) => e.streamId === `subscription-${subscriptionId}`).at(-1)!.revision;

const key = (p: { commit: bigint; prepare: bigint }): string => `${p.commit}.${p.prepare}`;

describe('billing read model changes', () => {
  it('carry the subscription or invoice as GET shows it at their own event, on its topics; an issued invoice also announces its subscription; the last one is what the queries read', async () => {
    const log = await scenario();
    const sql = sqlExecutor(client);
    const changes: PositionedProjectionChange[] = [];
    // Batches of 7: a subscription's or invoice's several events in one batch, and an invoice issued in its subscription's batch.
    for (let at = 0; at < log.length; at += 7) changes.push(...(await billingProjection.applyBatch!(sql, log.slice(at, at + 7))));
    const issued = log.filter((e) => e.type === 'InvoiceIssued');
    expect(issued.length).toBeGreaterThan(2);
    expect(changes).toHaveLength(log.length + issued.length);

    const byPosition = new Map(log.map((e) => [key(e.position), e]));
    // The changes of one event, in order: its own, then (an issued invoice) its subscription's.
    const changesAt = new Map<string, PositionedProjectionChange[]>();
    for (const change of changes) changesAt.set(key(change.position), [...(changesAt.get(key(change.position)) ?? []), change]);
    expect([...changesAt.keys()]).toEqual(log.map((e) => key(e.position)));

    const lastChangeOf = new Map<string, PositionedProjectionChange>();
    let sawStaleRisk = false;
    const remember = (id: string, change: PositionedProjectionChange): void => {
      if (lastChangeOf.has(id) && JSON.stringify(lastChangeOf.get(id)!.data) !== JSON.stringify(change.data)) sawStaleRisk = true;
      lastChangeOf.set(id, change);
    };
    const subscriptionView = (event: RecordedEvent, subscriptionId: string) => {
      const state = stateAt(log, log.filter((e) => e.streamId === `subscription-${subscriptionId}` && log.indexOf(e) <= log.indexOf(event)).at(-1)!);
      return toSubscriptionView(state as ExistingSubscription, subscriptionRevisionAt(log, event, subscriptionId), latestInvoiceAt(log, event, subscriptionId));
    };
    for (const [at, mine] of changesAt) {
      const event = byPosition.get(at)!;
      const id = event.streamId.slice(event.streamId.indexOf('-') + 1);
      if (event.streamId.startsWith('subscription-')) {
        expect(mine).toHaveLength(1);
        const [change] = mine as [PositionedProjectionChange];
        const s = stateAt(log, event) as ExistingSubscription;
        expect(change.data, `${event.type} at ${at}`).toEqual(subscriptionView(event, id));
        expect(change.topics).toEqual([`subscription:${id}`, `customer:${s.customerId}`]);
        expect(change.type).toBe(event.type === 'SubscriptionCreated' ? 'subscription.created' : 'subscription.updated');
        remember(id, change);
        continue;
      }
      const i = stateAt(log, event) as ExistingInvoice;
      expect(mine).toHaveLength(event.type === 'InvoiceIssued' ? 2 : 1);
      const [change, ofSubscription] = mine as [PositionedProjectionChange, PositionedProjectionChange | undefined];
      expect(change.data, `${event.type} at ${at}`).toEqual(toInvoiceView(i, event.revision));
      expect(change.topics).toEqual([`invoice:${id}`, `subscription:${i.subscriptionId}`, `customer:${i.customerId}`]);
      expect(change.type).toBe(event.type === 'InvoiceIssued' ? 'invoice.created' : 'invoice.updated');
      remember(id, change);
      if (ofSubscription) {
        // Its subscription as it stands, now with this invoice as its latest.
        expect(ofSubscription.type).toBe('subscription.updated');
        expect(ofSubscription.topics).toEqual([`subscription:${i.subscriptionId}`, `customer:${i.customerId}`]);
        expect(ofSubscription.data).toEqual(subscriptionView(event, i.subscriptionId));
        expect(ofSubscription.data).toMatchObject({ latestInvoice: id });
        remember(i.subscriptionId, ofSubscription);
      }
    }
    // The scenario does change an aggregate more than once: otherwise this test could not tell "state at the event" from "state after the batch".
    expect(sawStaleRisk).toBe(true);

    // The last change of each is what GET answers: the view of what the queries read, in its wire form, byte for byte (after a jsonb round trip, as the change feed stores it).
    const queries = new SqlBillingQueries(sql);
    const stored = async (data: unknown): Promise<unknown> => (await client.query<{ data: unknown }>('SELECT $1::jsonb AS data', [JSON.stringify(data)])).rows[0]!.data;
    for (const [id, change] of lastChangeOf) {
      const got = id.startsWith('sub_') ? await queries.subscription(id) : await queries.invoice(id);
      if (!got) throw new Error(`${id} is not in the read model`);
      const body =
        'latestInvoice' in got
          ? subscriptionWireForm(toSubscriptionView(got.state, got.revision, got.latestInvoice))
          : invoiceWireForm(toInvoiceView(got.state, got.revision));
      expect(JSON.stringify(changeWireData(change.type, await stored(change.data))), id).toBe(JSON.stringify(body));
    }
    // The column keeps the rule the read model had before it (the greatest invoice id of the subscription).
    const { rows } = await client.query<{ id: string; latest_invoice: string | null; greatest: string | null }>(
      `SELECT s.id, s.latest_invoice, (SELECT max(i.id) FROM invoices i WHERE i.subscription_id = s.id) AS greatest FROM subscriptions s ORDER BY s.id`,
    );
    expect(rows.length).toBe(2);
    for (const row of rows) expect(row.latest_invoice, row.id).toBe(row.greatest);
    expect(rows.every((row) => row.latest_invoice !== null)).toBe(true);
  });
});
