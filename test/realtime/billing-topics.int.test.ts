import { io as connect } from 'socket.io-client';
import { billingStepsFor } from '../support/billing-steps.js';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { START, comparePositions, formatPosition, parsePosition } from '../../src/application/ports/position.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { ClockBillingTime } from '../../src/application/subscriptions/billing-time.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { toInvoiceView } from '../../src/application/subscriptions/invoice-view.js';
import { toSubscriptionView } from '../../src/application/subscriptions/subscription-view.js';
import type { ExistingInvoice, InvoiceState } from '../../src/domain/invoice/index.js';
import { evolveInvoice, upcastInvoiceEvent } from '../../src/domain/invoice/index.js';
import type { ExistingSubscription, SubscriptionState } from '../../src/domain/subscription/index.js';
import { evolveSubscription, upcastSubscriptionEvent } from '../../src/domain/subscription/index.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import type { ChangeMessage as Change } from '../../src/infrastructure/realtime/protocol.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { activityRecordOf } from '../../src/projections/activity/activity-entries.js';
import { SqlBillingQueries } from '../../src/projections/billing/billing-queries.js';
import { mintToken } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * `subscription:<id>`, `invoice:<id>` and `customer:<id>` through the whole service with a
 * real Socket.IO client (issue 9). The subscription commands and the billing process
 * manager run for real over the service's PostgreSQL event store (the test stops the
 * service's runner of the process manager and steps it through the log itself); the service's
 * projections announce the changes. Each change's data is the subscription or invoice as
 * GET shows it at that event, the last one byte for byte what GET answers; the customer topic also carries the timeline entries, byte for byte what
 * GET /v1/customers/:id/activity lists.
 */

let db: TestDatabase;
let service: RunningService;
let store: EventStore;
let subscriptions: SubscriptionCommandHandlers;
let billing: BillingProcess;
let queries: SqlBillingQueries;
let admin: string;
const sockets: Socket[] = [];
/** Everything at or before it has been through the process manager. */
let handled: Position = START;

const ctx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };
const price = { amount: 2_500, currency: toCurrencyCode('EUR'), interval: 'month' as const, intervalCount: 1 };
const WAIT_MS = 10_000;

beforeAll(async () => {
  db = await createTestDatabase('realtime_billing_topics');
  service = await startTestService(db.url);
  // This test steps the process manager through the log itself, one event at a time: the
  // service's own runner would race it (charging an invoice the test means to leave alone).
  await service.container.get(TOKENS.BillingProcessRunner).stop();
  store = service.container.get(TOKENS.EventStore);
  const ids = service.container.get(TOKENS.IdGenerator);
  subscriptions = new SubscriptionCommandHandlers(store, new ClockBillingTime(service.container.get(TOKENS.Clock), store), ids);
  const steps = billingStepsFor(store, subscriptions, ids, service.container.get(TOKENS.Clock), { payments: service.container.get(TOKENS.PaymentCommands) });
  billing = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  queries = new SqlBillingQueries(sqlExecutor(db.pool));
  admin = await mintToken({ scopes: ['admin'] });
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await service?.stop();
  await db?.drop();
});

/** How many events the process manager has been through (all of the log up to `handled`). */
let handledCount = 0;

/**
 * The next event the process manager has not been through; undefined at the head. The
 * store hands out an event only once no older transaction is open (the no-skip rule), so
 * "nothing to read" is the head only when every committed event has been read.
 */
async function peek(): Promise<RecordedEvent | undefined> {
  for (let waited = 0; waited <= WAIT_MS; waited += 10) {
    const [event] = await store.readAll({ after: handled, maxCount: 1 });
    if (event) return event;
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
    if (Number(rows[0]!.n) <= handledCount) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('committed events stayed hidden from readAll');
}

/** The process manager's next event (one at a time, in log order), handled; undefined at the head. */
async function step(): Promise<RecordedEvent | undefined> {
  const event = await peek();
  if (!event) return undefined;
  const outcome = await billing.handle(event);
  if (outcome.kind !== 'done') throw new Error(`billing step for ${event.type}: ${outcome.reason}`);
  handled = event.position;
  handledCount++;
  return event;
}

async function stepUntil(type: string): Promise<RecordedEvent> {
  for (let guard = 0; guard < 100; guard++) {
    const event = await step();
    if (!event) break;
    if (event.type === type) return event;
  }
  throw new Error(`no ${type} in the log`);
}

async function settle(): Promise<void> {
  for (let guard = 0; guard < 1_000; guard++) if (!(await step())) return;
  throw new Error('billing did not settle');
}

async function createSubscription(customerId: string, paymentMethod = 'pm_card_visa') {
  const created = await subscriptions.create({ customerId, price, paymentMethod, trialDays: null, metadata: { zeta: 'z', a: 'a' }, testClock: null }, ctx);
  if (!created.ok) throw new Error(created.error.code);
  return created.value;
}

async function open(token: string): Promise<{ socket: Socket; changes: Change[] }> {
  const socket = connect(service.url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  sockets.push(socket);
  const changes: Change[] = [];
  socket.on('change', (c: Change) => changes.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, changes };
}

type Ack = { ok: boolean; error?: string };
const subscribe = async (socket: Socket, topics: string[], since?: Position): Promise<Ack> =>
  (await socket.timeout(5_000).emitWithAck('subscribe', since === undefined ? { topics } : { topics, since: formatPosition(since) })) as Ack;

/** Bounded poll: a condition that never holds fails the test rather than hanging it. */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  for (let waited = 0; waited <= timeoutMs; waited += 25) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const on = (changes: readonly Change[], topic: string, types: RegExp = /./): Change[] => changes.filter((c) => c.topic === topic && types.test(c.type));

/** The subscription's and its invoices' events after `after`, in log order. */
async function billingEventsOf(subscriptionId: string, after: Position): Promise<RecordedEvent[]> {
  const events = await store.readAll({ after, maxCount: 10_000 });
  return events.filter((e) => e.streamId === `subscription-${subscriptionId}` || (e.streamId.startsWith('invoice-') && (e.data as { subscriptionId?: string }).subscriptionId === subscriptionId));
}

function stateAt(log: readonly RecordedEvent[], event: RecordedEvent): SubscriptionState | InvoiceState {
  const mine = log.slice(0, log.indexOf(event) + 1).filter((e) => e.streamId === event.streamId);
  return event.streamId.startsWith('subscription-')
    ? mine.reduce<SubscriptionState>((s, e) => evolveSubscription(s, upcastSubscriptionEvent(e.type, e.data, e.metadata.schemaVersion)), { exists: false })
    : mine.reduce<InvoiceState>((s, e) => evolveInvoice(s, upcastInvoiceEvent(e.type, e.data, e.metadata.schemaVersion)), { exists: false });
}

const changeType = (e: RecordedEvent): string =>
  e.type === 'SubscriptionCreated' ? 'subscription.created' : e.type === 'InvoiceIssued' ? 'invoice.created' : e.streamId.startsWith('invoice-') ? 'invoice.updated' : 'subscription.updated';

interface ExpectedChange {
  readonly type: string;
  readonly position: string;
  readonly data: unknown;
}

/**
 * The changes the log makes on a subscription's topics, with the data GET shows at each: one
 * per event (the subscription or the invoice at that event), and for an issued invoice a
 * second, its subscription with that invoice as its latest.
 */
function expectedChanges(log: readonly RecordedEvent[], subscriptionId: string): ExpectedChange[] {
  let latestInvoice: string | null = null;
  let subscription: { state: ExistingSubscription; revision: bigint } | undefined;
  const out: ExpectedChange[] = [];
  for (const event of log) {
    const position = formatPosition(event.position);
    if (event.streamId.startsWith('subscription-')) {
      subscription = { state: stateAt(log, event) as ExistingSubscription, revision: event.revision };
      out.push({ type: changeType(event), position, data: toSubscriptionView(subscription.state, subscription.revision, latestInvoice) });
      continue;
    }
    out.push({ type: changeType(event), position, data: toInvoiceView(stateAt(log, event) as ExistingInvoice, event.revision) });
    if (event.type === 'InvoiceIssued' && subscription) {
      latestInvoice = (event.data as { invoiceId: string }).invoiceId;
      out.push({ type: 'subscription.updated', position, data: toSubscriptionView(subscription.state, subscription.revision, latestInvoice) });
    }
  }
  expect(subscription?.state.subscriptionId).toBe(subscriptionId);
  return out;
}

/** GET `path` once the read model has `position`, as text. */
async function getText(path: string, position: string, token: string): Promise<string> {
  const res = await fetch(`${service.url}${path}?minPosition=${position}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const key = (c: Change): string => `${c.topic} ${c.type} ${c.position}`;

describe('subscription, invoice and customer topics', () => {
  it('a subscription created and its invoice issued and paid: every event a change on its topics, data as GET shows it at that event; the last of each byte for byte GET', async () => {
    const customer = 'cus_sub_rt';
    const watcher = await open(admin);
    expect(await subscribe(watcher.socket, [`customer:${customer}`])).toEqual({ ok: true });
    const before = handled;
    const created = await createSubscription(customer);
    const subscriptionId = created.state.subscriptionId;
    // The subscription's id is known only now: follow it from before its creation.
    const follower = await open(admin);
    expect(await subscribe(follower.socket, [`subscription:${subscriptionId}`], before)).toEqual({ ok: true });
    const issued = await stepUntil('InvoiceIssued');
    const invoiceId = (issued.data as { invoiceId: string }).invoiceId;
    expect(await subscribe(follower.socket, [`invoice:${invoiceId}`], created.position)).toEqual({ ok: true });
    await settle();

    const log = await billingEventsOf(subscriptionId, before);
    expect(log.map((e) => e.type)).toEqual(['SubscriptionCreated', 'InvoiceIssued', 'InvoicePaymentAttempted', 'InvoicePaid', 'SubscriptionActivated']);
    const expected = expectedChanges(log, subscriptionId);
    const expectedOnInvoice = expected.filter((c) => c.type.startsWith('invoice.'));
    const onSubscription = await until('the subscription topic', () => {
      const got = on(follower.changes, `subscription:${subscriptionId}`);
      return got.length >= expected.length ? got : undefined;
    });
    const onInvoice = await until('the invoice topic', () => {
      const got = on(follower.changes, `invoice:${invoiceId}`);
      return got.length >= expectedOnInvoice.length ? got : undefined;
    });
    const onCustomer = await until('the customer topic', () => {
      const got = on(watcher.changes, `customer:${customer}`, /^(subscription|invoice)\./);
      return got.length >= expected.length ? got : undefined;
    });
    // One change per event (and the subscription's when its invoice is issued), in log order, on each topic the event concerns: none missing, none twice.
    for (const [changes, wanted] of [[onSubscription, expected], [onInvoice, expectedOnInvoice], [onCustomer, expected]] as const) {
      expect(changes.map((c) => [c.type, c.position])).toEqual(wanted.map((c) => [c.type, c.position]));
      for (const [i, change] of changes.entries()) expect(change.data, `${change.topic} ${change.type} at ${change.position}`).toEqual(wanted[i]!.data);
    }
    // The subscription's latest invoice arrives with its invoice, before the charge.
    expect(onSubscription.map((c) => c.type)).toEqual(['subscription.created', 'invoice.created', 'subscription.updated', 'invoice.updated', 'invoice.updated', 'subscription.updated']);
    expect(onSubscription[2]!.data).toMatchObject({ status: 'incomplete', latestInvoice: invoiceId });
    // The last change of each is what GET answers at its position, byte for byte.
    const lastSubscription = on(onSubscription, `subscription:${subscriptionId}`, /^subscription\./).at(-1)!;
    const lastInvoice = onInvoice.at(-1)!;
    const subscriptionBody = await getText(`/v1/subscriptions/${subscriptionId}`, lastSubscription.position, admin);
    const invoiceBody = await getText(`/v1/invoices/${invoiceId}`, lastInvoice.position, admin);
    expect(JSON.parse(subscriptionBody)).toMatchObject({ status: 'active', latestInvoice: invoiceId, metadata: { a: 'a', zeta: 'z' } });
    expect(JSON.parse(invoiceBody)).toMatchObject({ status: 'paid', amountPaid: 2_500 });
    expect(JSON.stringify(lastSubscription.data)).toBe(subscriptionBody);
    expect(JSON.stringify(lastInvoice.data)).toBe(invoiceBody);
    expect(JSON.stringify(on(onSubscription, `subscription:${subscriptionId}`, /^invoice\./).at(-1)!.data)).toBe(invoiceBody);
    expect(JSON.stringify(on(onCustomer, `customer:${customer}`, /^subscription\./).at(-1)!.data)).toBe(subscriptionBody);
    // And what the read model holds.
    const subscription = await queries.subscription(subscriptionId);
    expect(subscription).toMatchObject({ latestInvoice: invoiceId, state: { status: 'active' } });

    // The customer's timeline, live: one `activity` change per fact (the attempt shows as its payment's entries).
    const timeline = await until('the timeline entries', () => {
      const got = on(watcher.changes, `customer:${customer}`, /^activity$/);
      return got.length >= 6 ? got : undefined;
    });
    expect(timeline.map((c) => (c.data as { type: string }).type)).toEqual([
      'subscription.created', 'invoice.issued', 'payment.created', 'payment.captured', 'invoice.paid', 'subscription.activated',
    ]);
    for (const change of timeline.filter((c) => !(c.data as { type: string }).type.startsWith('payment.'))) {
      const event = log.find((e) => formatPosition(e.position) === change.position)!;
      expect(change.data).toEqual(activityRecordOf(event)!.entry);
    }
    // And the same bytes as the feed serves them.
    const last = timeline.at(-1)!.position;
    const res = await fetch(`${service.url}/v1/customers/${customer}/activity?minPosition=${last}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    const page = ((await res.json()) as { data: unknown[] }).data.reverse();
    expect(page.map((entry) => JSON.stringify(entry))).toEqual(timeline.map((c) => JSON.stringify(c.data)));
  });

  it('resumes with `since`: a client back from a disconnect gets exactly what it missed, and with the first part all that a fresh follower gets', async () => {
    const customer = 'cus_sub_resume';
    const before = handled;
    const { state } = await createSubscription(customer);
    const topics = [`subscription:${state.subscriptionId}`, `customer:${customer}`];
    const first = await open(admin);
    expect(await subscribe(first.socket, topics, before)).toEqual({ ok: true });
    // The creation's reaction only: the invoice is issued, and nothing is done about it yet.
    expect((await step())?.type).toBe('SubscriptionCreated');
    const issued = await peek();
    expect(issued?.type).toBe('InvoiceIssued');
    // Everything so far, on both topics: the subscription topic's three changes (the subscription,
    // the invoice, the subscription with its latest invoice), the customer's same billing changes and
    // its two timeline entries (two projections, so not necessarily in one commit).
    await until('everything so far', () => (first.changes.length >= 8 ? true : undefined));
    first.socket.disconnect();
    const seen = [...first.changes];
    expect(seen).toHaveLength(8);
    const lastSeen = seen.map((c) => parsePosition(c.position)!).reduce((a, b) => (comparePositions(a, b) < 0 ? b : a));
    expect(formatPosition(lastSeen)).toBe(formatPosition(issued!.position));

    await settle();
    const activatedAt = formatPosition((await billingEventsOf(state.subscriptionId, before)).at(-1)!.position);
    const back = await open(admin);
    expect(await subscribe(back.socket, topics, lastSeen)).toEqual({ ok: true });
    await until('the activation', () => (back.changes.some((c) => c.position === activatedAt && c.topic === topics[0]) ? true : undefined));

    const fresh = await open(admin);
    expect(await subscribe(fresh.socket, topics, before)).toEqual({ ok: true });
    const total = seen.length + back.changes.length;
    await until('the whole history', () => (fresh.changes.length >= total ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect(back.changes.every((c) => comparePositions(parsePosition(c.position)!, lastSeen) > 0)).toBe(true);
    expect(new Set(back.changes.map(key)).size).toBe(back.changes.length);
    expect([...seen, ...back.changes].map(key)).toEqual(fresh.changes.map(key));
    // The part after the disconnect covers the payment and the activation, on both topics.
    expect(on(back.changes, topics[0]!).map((c) => c.type)).toEqual(['invoice.updated', 'invoice.updated', 'subscription.updated']);
    expect(on(back.changes, topics[1]!, /^activity$/).map((c) => (c.data as { type: string }).type)).toEqual(['payment.created', 'payment.captured', 'invoice.paid', 'subscription.activated']);
  });

  it('a customer-scoped credential follows only its own subscriptions and invoices; another customer\'s are refused like unknown ones', async () => {
    const mine = await createSubscription('cus_sub_mine');
    const theirs = await createSubscription('cus_sub_theirs');
    await settle();
    const invoiceOf = async (subscriptionId: string): Promise<string> => {
      const page = await queries.invoices({ subscriptionId });
      return page.ok && page.value.data[0] ? page.value.data[0].state.invoiceId : '';
    };
    // The owner lookup reads the read model: wait until both subscriptions and their invoices are in it.
    const [myInvoice, theirInvoice] = await until('the read model', async () => {
      const ids = [await invoiceOf(mine.state.subscriptionId), await invoiceOf(theirs.state.subscriptionId)];
      return ids.every((id) => id !== '') && (await queries.subscription(theirs.state.subscriptionId)) ? ids : undefined;
    });
    const theirSub = `subscription:${theirs.state.subscriptionId}`;
    const unknownSub = `subscription:sub_01JD${'0'.repeat(21)}9`;
    const mySub = `subscription:${mine.state.subscriptionId}`;

    const scoped = await open(await mintToken({ scopes: ['subscriptions:read', 'payments:read'], customerId: 'cus_sub_mine' }));
    expect(await subscribe(scoped.socket, [theirSub])).toEqual({ ok: false, error: `forbidden: not allowed to follow ${theirSub}` });
    expect(await subscribe(scoped.socket, [unknownSub])).toEqual({ ok: false, error: `forbidden: not allowed to follow ${unknownSub}` });
    expect(await subscribe(scoped.socket, [`invoice:${theirInvoice}`])).toEqual({ ok: false, error: `forbidden: not allowed to follow invoice:${theirInvoice}` });
    // A refused subscribe joins nothing, not even the topics it was allowed.
    expect((await subscribe(scoped.socket, [mySub, theirSub])).ok).toBe(false);
    const fresh = await open(await mintToken({ scopes: ['subscriptions:read', 'payments:read'], customerId: 'cus_sub_mine' }));
    expect(await subscribe(fresh.socket, [mySub, `invoice:${myInvoice}`])).toEqual({ ok: true });

    const paymentsOnly = await open(await mintToken({ scopes: ['payments:read'], customerId: 'cus_sub_mine' }));
    expect(await subscribe(paymentsOnly.socket, [mySub])).toEqual({ ok: false, error: `forbidden: not allowed to follow ${mySub}` });

    // Both change; only its own reaches the scoped sockets.
    const theirsUpdated = await subscriptions.update(theirs.state.subscriptionId, { cancelAtPeriodEnd: true }, ctx);
    const mineUpdated = await subscriptions.update(mine.state.subscriptionId, { cancelAtPeriodEnd: true }, ctx);
    if (!theirsUpdated.ok || !mineUpdated.ok) throw new Error('update refused');
    const change = await until('my update', () => fresh.changes.find((c) => c.position === formatPosition(mineUpdated.value.position)));
    expect(change).toMatchObject({ topic: mySub, type: 'subscription.updated', data: { id: mine.state.subscriptionId, cancelAtPeriodEnd: true } });
    await new Promise((r) => setTimeout(r, 200));
    expect([...fresh.changes, ...scoped.changes].filter((c) => c.position === formatPosition(theirsUpdated.value.position))).toEqual([]);
    expect(scoped.changes).toEqual([]);
  });
});
