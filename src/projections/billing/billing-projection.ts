import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import { invoiceDueWork, subscriptionDueWork } from '../../application/subscriptions/billing-schedule.js';
import { toInvoiceView } from '../../application/subscriptions/invoice-view.js';
import { laterInvoice, toSubscriptionView } from '../../application/subscriptions/subscription-view.js';
import type { ExistingInvoice, InvoiceEvent, InvoiceState } from '../../domain/invoice/index.js';
import { INVOICE_EVENT_TYPES, evolveInvoice, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import type { ExistingSubscription, SubscriptionEvent, SubscriptionState } from '../../domain/subscription/index.js';
import { SUBSCRIPTION_EVENT_TYPES, evolveSubscription, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { describeError } from '../logger.js';
import { ProjectionEventError } from '../projection.js';

/*
 * The billing read model (schema rm_billing; docs/architecture.md, "Subscriptions"): one row
 * per subscription and per invoice, each holding the aggregate's state as its own fold
 * leaves it (the one fold: evolveSubscription / evolveInvoice), the columns lists filter on,
 * the work due on it (billing-schedule.ts) for the billing clock, and for a subscription its
 * latest invoice. A batch is folded in
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
  -- Its newest invoice (the view's latestInvoice): ids are time-ordered, so the greatest issued.
  latest_invoice text COLLATE "C",
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

const SELECT_SUBSCRIPTIONS = `SELECT id, state, revision::text AS revision, latest_invoice FROM subscriptions WHERE id = ANY($1::text[])`;
const SELECT_INVOICES = `SELECT id, state, revision::text AS revision FROM invoices WHERE id = ANY($1::text[])`;

/*
 * A subscription's row also changes without an event of its own: its latest invoice moves
 * on when one is issued, at the same revision. The fold only moves a row forward from what
 * was read in this transaction; the WHERE and GREATEST say so again in SQL.
 */
const UPSERT_SUBSCRIPTIONS = `
INSERT INTO subscriptions (id, customer_id, status, test_clock, state, due_kind, due_at, revision, latest_invoice)
SELECT r.id, r.customer_id, r.status, r.test_clock, r.state, r.due_kind, r.due_at, r.revision, r.latest_invoice
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, customer_id text, status text, test_clock text, state jsonb, due_kind text, due_at timestamptz, revision bigint, latest_invoice text)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status, state = EXCLUDED.state, due_kind = EXCLUDED.due_kind, due_at = EXCLUDED.due_at, revision = EXCLUDED.revision,
       latest_invoice = GREATEST(subscriptions.latest_invoice, EXCLUDED.latest_invoice)
 WHERE subscriptions.revision < EXCLUDED.revision
    OR (subscriptions.revision = EXCLUDED.revision AND subscriptions.latest_invoice IS DISTINCT FROM EXCLUDED.latest_invoice)`;

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

interface StoredSubscription extends StoredRow<ExistingSubscription> {
  readonly latest_invoice: string | null;
}

interface Folded<S> {
  state: S;
  revision: bigint;
  dirty: boolean;
}

interface FoldedSubscription extends Folded<SubscriptionState> {
  latestInvoice: string | null;
}

type Decoded =
  | { readonly kind: 'subscription'; readonly recorded: RecordedEvent; readonly event: SubscriptionEvent }
  | { readonly kind: 'invoice'; readonly recorded: RecordedEvent; readonly event: InvoiceEvent };

function decode(recorded: RecordedEvent): Decoded | undefined {
  if (recorded.streamId.startsWith('subscription-')) {
    return { kind: 'subscription', recorded, event: upcastSubscriptionEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion) };
  }
  if (recorded.streamId.startsWith('invoice-')) {
    return { kind: 'invoice', recorded, event: upcastInvoiceEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion) };
  }
  return undefined;
}

/** An event this code cannot read or apply stops the projection at that event, not at its batch's first. */
function atEvent<T>(recorded: RecordedEvent, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw new ProjectionEventError(recorded, describeError(error));
  }
}

const subscriptionChange = (s: ExistingSubscription, revision: bigint, latestInvoice: string | null, type: string, position: Position): PositionedProjectionChange => ({
  topics: [`subscription:${s.subscriptionId}`, `customer:${s.customerId}`],
  type,
  data: toSubscriptionView(s, revision, latestInvoice),
  position,
});

/*
 * The batch is folded in log order across both tables, because a subscription's view
 * depends on its invoices (`latestInvoice`). Each change carries the resource as it stood
 * at its own event, not as the batch leaves it, in the form GET answers (the views of
 * src/application/subscriptions/): a client reading `data` at a change's position sees
 * what GET at that position would. An issued invoice that becomes its subscription's
 * latest also announces the subscription (`subscription.updated`, at the invoice's
 * position, after the invoice's own change), so the last subscription change on
 * `subscription:<id>` is always what GET answers.
 */
async function applyBatch(sql: SqlExecutor, recorded: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const decoded = recorded.map((r) => atEvent(r, () => decode(r))).filter((d): d is Decoded => d !== undefined);
  const subscriptionIds = new Set<string>();
  const invoiceIds = new Set<string>();
  for (const d of decoded) {
    if (d.kind === 'subscription') subscriptionIds.add(d.event.data.subscriptionId);
    else {
      invoiceIds.add(d.event.data.invoiceId);
      if (d.event.type === 'InvoiceIssued') subscriptionIds.add(d.event.data.subscriptionId);
    }
  }
  const subscriptions = new Map<string, FoldedSubscription>();
  const invoices = new Map<string, Folded<InvoiceState>>();
  if (subscriptionIds.size > 0) {
    for (const row of (await sql.query<StoredSubscription>(SELECT_SUBSCRIPTIONS, [[...subscriptionIds]])).rows) {
      subscriptions.set(row.id, { state: row.state, revision: BigInt(row.revision), latestInvoice: row.latest_invoice, dirty: false });
    }
  }
  if (invoiceIds.size > 0) {
    for (const row of (await sql.query<StoredRow<ExistingInvoice>>(SELECT_INVOICES, [[...invoiceIds]])).rows) {
      invoices.set(row.id, { state: row.state, revision: BigInt(row.revision), dirty: false });
    }
  }

  const changes: PositionedProjectionChange[] = [];
  for (const d of decoded) {
    const { recorded: r } = d;
    if (d.kind === 'subscription') {
      const id = d.event.data.subscriptionId;
      const row = subscriptions.get(id) ?? { state: { exists: false }, revision: -1n, latestInvoice: null, dirty: false };
      // Applied already (a replay, or a batch read again after a crash): nothing changes.
      if (r.revision <= row.revision) continue;
      const state = atEvent(r, () => evolveSubscription(row.state, d.event));
      subscriptions.set(id, { state, revision: r.revision, latestInvoice: row.latestInvoice, dirty: true });
      changes.push(subscriptionChange(state, r.revision, row.latestInvoice, d.event.type === 'SubscriptionCreated' ? 'subscription.created' : 'subscription.updated', r.position));
      continue;
    }
    const id = d.event.data.invoiceId;
    const row = invoices.get(id) ?? { state: { exists: false }, revision: -1n, dirty: false };
    if (r.revision <= row.revision) continue;
    const state = atEvent(r, () => evolveInvoice(row.state, d.event));
    invoices.set(id, { state, revision: r.revision, dirty: true });
    changes.push({
      topics: [`invoice:${id}`, `subscription:${state.subscriptionId}`, `customer:${state.customerId}`],
      type: d.event.type === 'InvoiceIssued' ? 'invoice.created' : 'invoice.updated',
      data: toInvoiceView(state, r.revision),
      position: r.position,
    });
    if (d.event.type !== 'InvoiceIssued') continue;
    const subscription = subscriptions.get(state.subscriptionId);
    // The billing process issues an invoice only for a subscription it has read from the log, which the log has before the invoice.
    if (!subscription?.state.exists) throw new ProjectionEventError(r, `invoice ${id} was issued for subscription ${state.subscriptionId}, which the billing read model does not hold`);
    const latest = laterInvoice(subscription.latestInvoice, id);
    if (latest === subscription.latestInvoice) continue;
    subscription.latestInvoice = latest;
    subscription.dirty = true;
    changes.push(subscriptionChange(subscription.state, subscription.revision, latest, 'subscription.updated', r.position));
  }

  const writtenSubscriptions = [...subscriptions.entries()].filter(([, f]) => f.dirty).map(([id, f]) => {
    const s = f.state as ExistingSubscription;
    const work = subscriptionDueWork(s);
    return {
      id,
      customer_id: s.customerId,
      status: s.status,
      test_clock: s.testClock,
      state: s,
      due_kind: work?.kind ?? null,
      due_at: work?.dueAt ?? null,
      revision: f.revision.toString(),
      latest_invoice: f.latestInvoice,
    };
  });
  if (writtenSubscriptions.length > 0) await sql.query(UPSERT_SUBSCRIPTIONS, [JSON.stringify(writtenSubscriptions)]);
  const writtenInvoices = [...invoices.entries()].filter(([, f]) => f.dirty).map(([id, f]) => {
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
  if (writtenInvoices.length > 0) await sql.query(UPSERT_INVOICES, [JSON.stringify(writtenInvoices)]);
  // In log order already: one pass over the batch, an invoice's subscription change right after its own.
  return changes;
}

/**
 * The billing read model: subscriptions (with their latest invoice) and invoices, with the
 * work due on each. Version 2: the subscription row keeps its latest invoice, and changes
 * carry the GET form (views), so version-1 rows are rebuilt.
 */
export const billingProjection: Projection = {
  name: BILLING_PROJECTION,
  version: 2,
  eventTypes: [...SUBSCRIPTION_EVENT_TYPES, ...INVOICE_EVENT_TYPES],
  schemaSql: `${BILLING_TABLES_SQL}\n${BILLING_INDEX_SQL}`,
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
