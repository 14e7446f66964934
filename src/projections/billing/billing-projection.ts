import type { RecordedEvent } from '../../application/ports/event-store.js';
import { comparePositions } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import { invoiceDueWork, subscriptionDueWork } from '../../application/subscriptions/billing-schedule.js';
import type { ExistingInvoice, InvoiceState } from '../../domain/invoice/index.js';
import { INVOICE_EVENT_TYPES, evolveInvoice, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import type { ExistingSubscription, SubscriptionState } from '../../domain/subscription/index.js';
import { SUBSCRIPTION_EVENT_TYPES, evolveSubscription, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';

/*
 * The billing read model (schema rm_billing; docs/architecture.md, "Subscriptions"): one row
 * per subscription and per invoice, each holding the aggregate's state as its own fold
 * leaves it (the one fold: evolveSubscription / evolveInvoice), the columns lists filter on,
 * and the work due on it (billing-schedule.ts) for the billing clock. A batch is folded in
 * memory and written with one upsert per table; an event at or below a row's revision
 * changes nothing, so a replay writes the same rows.
 */

export const BILLING_PROJECTION = 'billing';

export const BILLING_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS subscriptions (
  id text COLLATE "C" PRIMARY KEY,
  customer_id text NOT NULL,
  status text NOT NULL,
  test_clock text,
  state jsonb NOT NULL,
  due_kind text CHECK (due_kind IN ('start_next_period', 'expire_incomplete')),
  due_at timestamptz,
  revision bigint NOT NULL CHECK (revision >= 0),
  CHECK ((due_kind IS NULL) = (due_at IS NULL))
);
CREATE TABLE IF NOT EXISTS invoices (
  id text COLLATE "C" PRIMARY KEY,
  subscription_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'uncollectible', 'void')),
  test_clock text,
  state jsonb NOT NULL,
  due_attempt integer CHECK (due_attempt > 0),
  due_at timestamptz,
  revision bigint NOT NULL CHECK (revision >= 0),
  CHECK ((due_attempt IS NULL) = (due_at IS NULL))
);`;

/* The billing clock asks for what is due on one clock, earliest first. */
export const BILLING_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS invoices_due ON invoices (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS subscriptions_customer_id ON subscriptions (customer_id, id);
CREATE INDEX IF NOT EXISTS subscriptions_status_id ON subscriptions (status, id);
CREATE INDEX IF NOT EXISTS invoices_subscription_id ON invoices (subscription_id, id);
CREATE INDEX IF NOT EXISTS invoices_customer_id ON invoices (customer_id, id);
CREATE INDEX IF NOT EXISTS invoices_status_id ON invoices (status, id);`;

const SELECT_SUBSCRIPTIONS = `SELECT id, state, revision::text AS revision FROM subscriptions WHERE id = ANY($1::text[])`;
const SELECT_INVOICES = `SELECT id, state, revision::text AS revision FROM invoices WHERE id = ANY($1::text[])`;

const UPSERT_SUBSCRIPTIONS = `
INSERT INTO subscriptions (id, customer_id, status, test_clock, state, due_kind, due_at, revision)
SELECT r.id, r.customer_id, r.status, r.test_clock, r.state, r.due_kind, r.due_at, r.revision
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, customer_id text, status text, test_clock text, state jsonb, due_kind text, due_at timestamptz, revision bigint)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status, state = EXCLUDED.state, due_kind = EXCLUDED.due_kind, due_at = EXCLUDED.due_at, revision = EXCLUDED.revision
 WHERE subscriptions.revision < EXCLUDED.revision`;

const UPSERT_INVOICES = `
INSERT INTO invoices (id, subscription_id, customer_id, status, test_clock, state, due_attempt, due_at, revision)
SELECT r.id, r.subscription_id, r.customer_id, r.status, r.test_clock, r.state, r.due_attempt, r.due_at, r.revision
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, subscription_id text, customer_id text, status text, test_clock text, state jsonb, due_attempt integer, due_at timestamptz, revision bigint)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status, state = EXCLUDED.state, due_attempt = EXCLUDED.due_attempt, due_at = EXCLUDED.due_at, revision = EXCLUDED.revision
 WHERE invoices.revision < EXCLUDED.revision`;

interface StoredRow<S> {
  readonly id: string;
  readonly state: S;
  readonly revision: string;
}

interface Folded<S> {
  state: S;
  revision: bigint;
  dirty: boolean;
}

function fold<S extends { readonly exists: boolean }, E>(
  stored: readonly StoredRow<S>[],
  recorded: readonly RecordedEvent[],
  events: readonly E[],
  idOf: (e: E) => string,
  evolve: (s: S, e: E) => S,
  initial: S,
): { rows: Map<string, Folded<S>>; changed: { id: string; event: RecordedEvent; state: S }[] } {
  const rows = new Map<string, Folded<S>>();
  for (const row of stored) rows.set(row.id, { state: row.state, revision: BigInt(row.revision), dirty: false });
  // Each change carries the state at its own event, not as the batch leaves it: a client reading
  // `data` at a change's position sees what a read of the read model at that position would.
  const changed: { id: string; event: RecordedEvent; state: S }[] = [];
  for (const [i, r] of recorded.entries()) {
    const event = events[i] as E;
    const id = idOf(event);
    const row = rows.get(id) ?? { state: initial, revision: -1n, dirty: false };
    // Applied already (a replay, or a batch read again after a crash): nothing changes.
    if (r.revision <= row.revision) continue;
    const state = evolve(row.state, event);
    rows.set(id, { state, revision: r.revision, dirty: true });
    changed.push({ id, event: r, state });
  }
  return { rows, changed };
}

async function applyBatch(sql: SqlExecutor, recorded: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const subscriptionEvents = recorded.filter((r) => r.streamId.startsWith('subscription-'));
  const invoiceEvents = recorded.filter((r) => r.streamId.startsWith('invoice-'));
  const changes: PositionedProjectionChange[] = [];

  if (subscriptionEvents.length > 0) {
    const events = subscriptionEvents.map((r) => upcastSubscriptionEvent(r.type, r.data, r.metadata.schemaVersion));
    const ids = [...new Set(events.map((e) => e.data.subscriptionId))];
    const stored = (await sql.query<StoredRow<SubscriptionState>>(SELECT_SUBSCRIPTIONS, [ids])).rows;
    const { rows, changed } = fold<SubscriptionState, (typeof events)[number]>(
      stored,
      subscriptionEvents,
      events,
      (e) => e.data.subscriptionId,
      evolveSubscription,
      { exists: false },
    );
    const written = [...rows.entries()].filter(([, f]) => f.dirty).map(([id, f]) => {
      const s = f.state as ExistingSubscription;
      const work = subscriptionDueWork(s);
      return { id, customer_id: s.customerId, status: s.status, test_clock: s.testClock, state: s, due_kind: work?.kind ?? null, due_at: work?.dueAt ?? null, revision: f.revision.toString() };
    });
    if (written.length > 0) await sql.query(UPSERT_SUBSCRIPTIONS, [JSON.stringify(written)]);
    for (const { id, event, state } of changed) {
      const s = state as ExistingSubscription;
      changes.push({ topics: [`subscription:${id}`, `customer:${s.customerId}`], type: event.type === 'SubscriptionCreated' ? 'subscription.created' : 'subscription.updated', data: s, position: event.position });
    }
  }

  if (invoiceEvents.length > 0) {
    const events = invoiceEvents.map((r) => upcastInvoiceEvent(r.type, r.data, r.metadata.schemaVersion));
    const ids = [...new Set(events.map((e) => e.data.invoiceId))];
    const stored = (await sql.query<StoredRow<InvoiceState>>(SELECT_INVOICES, [ids])).rows;
    const { rows, changed } = fold<InvoiceState, (typeof events)[number]>(
      stored,
      invoiceEvents,
      events,
      (e) => e.data.invoiceId,
      evolveInvoice,
      { exists: false },
    );
    const written = [...rows.entries()].filter(([, f]) => f.dirty).map(([id, f]) => {
      const i = f.state as ExistingInvoice;
      const work = invoiceDueWork(i);
      return {
        id,
        subscription_id: i.subscriptionId,
        customer_id: i.customerId,
        status: i.status,
        test_clock: i.testClock,
        state: i,
        due_attempt: work?.kind === 'retry_invoice' ? work.attempt : null,
        due_at: work?.dueAt ?? null,
        revision: f.revision.toString(),
      };
    });
    if (written.length > 0) await sql.query(UPSERT_INVOICES, [JSON.stringify(written)]);
    for (const { id, event, state } of changed) {
      const i = state as ExistingInvoice;
      changes.push({
        topics: [`invoice:${id}`, `subscription:${i.subscriptionId}`, `customer:${i.customerId}`],
        type: event.type === 'InvoiceIssued' ? 'invoice.created' : 'invoice.updated',
        data: i,
        position: event.position,
      });
    }
  }
  return changes.sort((a, b) => comparePositions(a.position, b.position));
}

/** The billing read model: subscriptions and invoices, with the work due on each. */
export const billingProjection: Projection = {
  name: BILLING_PROJECTION,
  version: 1,
  eventTypes: [...SUBSCRIPTION_EVENT_TYPES, ...INVOICE_EVENT_TYPES],
  schemaSql: `${BILLING_TABLES_SQL}\n${BILLING_INDEX_SQL}`,
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
