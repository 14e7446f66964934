import { randomBytes, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import { InMemoryDisputeCommands } from '../support/in-memory-dispute-commands.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';
import { mintToken } from '../http/support/auth.js';

/*
 * Stripe webhooks through the whole service (PAYMENT_PROVIDER=stripe against the fake
 * Stripe, real PostgreSQL): events signed with the SDK's generateTestHeaderString are
 * verified, recorded in the inbox once, processed by the background processor, and land
 * on our payments, refunds and disputes, in whatever order and however often they come.
 * "The dashboard" is the Stripe SDK talking to the fake directly: what someone does in
 * Stripe without going through Ledger.
 */

const SECRET = 'whsec_primary_0123456789abcdef';
const ROLLED_SECRET = 'whsec_rolled_fedcba9876543210';
const MAX_ATTEMPTS = 3;

const fake = new FakeStripeServer();
const disputes = new InMemoryDisputeCommands((pi) => fake.paymentIntents.get(pi)?.metadata.paymentId);
let db: TestDatabase;
let service: RunningService;
let dashboard: Stripe;

beforeAll(async () => {
  const address = await fake.start();
  db = await createTestDatabase('stripe_webhooks');
  service = await startTestService(
    db.url,
    {
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_webhooks123',
      STRIPE_API_HOST: address.host,
      STRIPE_API_PORT: String(address.port),
      STRIPE_API_PROTOCOL: address.protocol,
      STRIPE_MAX_NETWORK_RETRIES: '0',
      STRIPE_WEBHOOK_SECRET: `${SECRET}, ${ROLLED_SECRET}`,
      WEBHOOK_INBOX_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      WEBHOOK_INBOX_RETRY_MIN_MS: '50',
      WEBHOOK_INBOX_RETRY_MAX_MS: '200',
      WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS: '0',
    },
    { disputeCommands: disputes },
  );
  dashboard = new Stripe('sk_test_dashboard123', { host: address.host, port: address.port, protocol: address.protocol, maxNetworkRetries: 0, telemetry: false });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  await fake.stop();
});

// ---- helpers ----------------------------------------------------------------------------

interface StripeEventBody {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  data: { object: unknown };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function stripeEvent(type: string, object: unknown, options: { created?: number } = {}): StripeEventBody {
  return { id: `evt_${randomBytes(12).toString('hex')}`, object: 'event', type, created: options.created ?? nowSeconds(), api_version: '2025-01-27.acacia', livemode: false, data: { object } };
}

async function deliver(
  event: unknown,
  options: { secret?: string; timestamp?: number; signature?: string | null; body?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; ms: number }> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? SECRET, ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }) });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.signature !== null) headers['stripe-signature'] = options.signature ?? header;
  const started = performance.now();
  const res = await fetch(`${service.url}/v1/webhooks/stripe`, { method: 'POST', headers, body: options.body ?? payload });
  const ms = performance.now() - started;
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, ms };
}

interface InboxRow {
  id: string;
  status: string;
  attempts: number;
  outcome: string | null;
  last_error: string | null;
}

async function inboxRows(eventId: string): Promise<InboxRow[]> {
  return (await db.pool.query<InboxRow>('SELECT id::text, status, attempts, outcome, last_error FROM webhook_inbox WHERE event_id = $1', [eventId])).rows;
}

/** The entry once it reaches one of `statuses`; fails after `timeoutMs`. */
async function settled(eventId: string, statuses: readonly string[] = ['processed', 'ignored', 'failed'], timeoutMs = 10_000): Promise<InboxRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await inboxRows(eventId);
    if (row && statuses.includes(row.status)) return row;
    if (Date.now() > deadline) throw new Error(`inbox entry of ${eventId} is ${row?.status ?? 'absent'}, not ${statuses.join('|')}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function api(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { ...(headers ?? (await authHeader())), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A payment of ours and its PaymentIntent at the fake Stripe. */
async function createPayment(body: Record<string, unknown>): Promise<{ paymentId: string; pi: string }> {
  const created = await api('POST', '/v1/payments', { customerId: 'cus_wh', currency: 'EUR', ...body });
  expect(created.status).toBe(201);
  const paymentId = created.json.id as string;
  const intent = [...fake.paymentIntents.values()].find((p) => p.metadata.paymentId === paymentId);
  if (!intent) throw new Error(`no PaymentIntent for ${paymentId}`);
  return { paymentId, pi: intent.id };
}

interface StoredEvent {
  event_type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

async function streamEvents(stream: string): Promise<StoredEvent[]> {
  return (await db.pool.query<StoredEvent>('SELECT event_type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_revision', [stream])).rows;
}

const types = (events: readonly StoredEvent[]): string[] => events.map((e) => e.event_type);

// ---- tests ------------------------------------------------------------------------------

describe('Stripe webhooks: processing failures', () => {
  it('a refetch that keeps failing is retried with backoff, then parked as failed and listed; POST …/retry processes it', async () => {
    const { paymentId, pi } = await createPayment({ amount: 5_000, paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    await dashboard.paymentIntents.capture(pi, { amount_to_capture: 3_000 });
    const event = stripeEvent('payment_intent.succeeded', fake.paymentIntents.get(pi));
    fake.failNext(MAX_ATTEMPTS, 500);

    const ack = await deliver(event);
    expect(ack.status).toBe(200);
    const parked = await settled(event.id, ['failed']);
    expect(parked.attempts).toBe(MAX_ATTEMPTS);
    expect(parked.last_error).toMatch(/ProviderUnavailable.*500/);
    expect(fake.requestsTo('GET', `/v1/payment_intents/${pi}`).filter((r) => r.status === 500)).toHaveLength(MAX_ATTEMPTS);
    expect(types(await streamEvents(`payment-${paymentId}`))).toEqual(['PaymentRequested', 'PaymentAuthorized']);

    const failedList = await api('GET', '/v1/admin/webhooks/inbox?status=failed');
    expect(failedList.status).toBe(200);
    const listed = (failedList.json.data as Record<string, unknown>[]).find((e) => e.eventId === event.id);
    expect(listed).toMatchObject({ id: parked.id, object: 'webhook_event', type: 'payment_intent.succeeded', objectId: pi, status: 'failed', attempts: MAX_ATTEMPTS });
    const one = await api('GET', `/v1/admin/webhooks/inbox/${parked.id}`);
    expect(one.json).toMatchObject({ eventId: event.id, status: 'failed', payload: { id: event.id, data: { object: { id: pi } } } });

    const retried = await api('POST', `/v1/admin/webhooks/inbox/${parked.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ id: parked.id, status: 'pending', attempts: 0 });
    const done = await settled(event.id, ['processed']);
    expect(done.outcome).toMatch(/PaymentCaptured 3000 \(released 2000\)/);
    const events = await streamEvents(`payment-${paymentId}`);
    expect(types(events)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);
    expect(events[2]).toMatchObject({ data: { amount: 3_000, amountReleased: 2_000 }, metadata: { actor: 'stripe-webhook', correlationId: `stripe:${event.id}` } });

    const again = await api('POST', `/v1/admin/webhooks/inbox/${parked.id}/retry`);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'inbox_entry_not_retryable', currentStatus: 'processed' });
  });
});

describe('Stripe webhooks: verification', () => {
  it('a bad signature, a missing one or a tampered body is 400 and records nothing', async () => {
    const event = stripeEvent('payment_intent.succeeded', { id: 'pi_nope', object: 'payment_intent' });
    const wrong = await deliver(event, { secret: 'whsec_not_ours_000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ code: 'webhook_signature_invalid', reason: 'signature_mismatch' });
    const missing = await deliver(event, { signature: null });
    expect(missing.json).toMatchObject({ code: 'webhook_signature_invalid', reason: 'missing_signature' });
    const tampered = await deliver(event, { body: JSON.stringify({ ...event, type: 'charge.refunded' }) });
    expect(tampered.json).toMatchObject({ code: 'webhook_signature_invalid', reason: 'signature_mismatch' });
    expect(await inboxRows(event.id)).toEqual([]);
  });

  it('a signature older than the tolerance (300 s) is 400 and records nothing; one just inside it is accepted', async () => {
    const stale = stripeEvent('payment_intent.succeeded', { id: 'pi_stale', object: 'payment_intent' });
    const refused = await deliver(stale, { timestamp: nowSeconds() - 301 });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'webhook_signature_invalid', reason: 'stale' });
    expect(await inboxRows(stale.id)).toEqual([]);
    const fresh = stripeEvent('payment_intent.succeeded', { id: 'pi_fresh', object: 'payment_intent' });
    expect((await deliver(fresh, { timestamp: nowSeconds() - 290 })).status).toBe(200);
    expect(await inboxRows(fresh.id)).toHaveLength(1);
  });

  it('the second secret of STRIPE_WEBHOOK_SECRET verifies too (rolling the secret)', async () => {
    const event = stripeEvent('balance.available', { object: 'balance' });
    const ack = await deliver(event, { secret: ROLLED_SECRET });
    expect(ack.status).toBe(200);
    expect(await inboxRows(event.id)).toHaveLength(1);
  });

  it('needs no bearer token, and the admin inbox is for an admin credential only', async () => {
    expect((await api('GET', '/v1/admin/webhooks/inbox', undefined, {})).status).toBe(401);
    const reader = await mintToken({ scopes: ['payments:read'] });
    const refused = await api('GET', '/v1/admin/webhooks/inbox', undefined, { authorization: `Bearer ${reader}` });
    expect(refused.status).toBe(403);
    expect((await api('GET', '/v1/admin/webhooks/inbox/999999', undefined)).json).toMatchObject({ code: 'inbox_entry_not_found' });
    expect((await api('GET', '/v1/admin/webhooks/inbox?status=lost')).status).toBe(400);
  });
});

describe('Stripe webhooks: payments', () => {
  it('acknowledges fast; a capture made in the dashboard is recorded once, however often and in whatever order it is told', async () => {
    const { paymentId, pi } = await createPayment({ amount: 4_000, paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    const authorizedView = structuredClone(fake.paymentIntents.get(pi));
    await dashboard.paymentIntents.capture(pi);
    const succeeded = stripeEvent('payment_intent.succeeded', fake.paymentIntents.get(pi));

    const ack = await deliver(succeeded);
    expect(ack).toMatchObject({ status: 200, json: { received: true, duplicate: false } });
    expect(ack.ms).toBeLessThan(250);
    const done = await settled(succeeded.id);
    expect(done).toMatchObject({ status: 'processed', attempts: 1 });

    // Stripe delivers it again: acknowledged, nothing more.
    const repeat = await deliver(succeeded);
    expect(repeat).toMatchObject({ status: 200, json: { received: true, duplicate: true } });
    expect(await inboxRows(succeeded.id)).toHaveLength(1);
    // And an older event arrives late (the authorization): Stripe's current view already agrees with ours.
    const late = stripeEvent('payment_intent.amount_capturable_updated', authorizedView, { created: succeeded.created - 30 });
    expect((await deliver(late)).status).toBe(200);
    expect((await settled(late.id)).outcome).toMatch(/already agrees/);

    const events = await streamEvents(`payment-${paymentId}`);
    expect(types(events)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);
    expect(events[2]?.data).toMatchObject({ amount: 4_000, amountReleased: 0 });
  });

  it('reversed order: canceled, then the older amount_capturable_updated, ends canceled', async () => {
    const { paymentId, pi } = await createPayment({ amount: 2_500, paymentMethod: 'pm_card_mastercard', captureMethod: 'manual' });
    const authorizedView = structuredClone(fake.paymentIntents.get(pi));
    await dashboard.paymentIntents.cancel(pi, { cancellation_reason: 'requested_by_customer' });
    const canceled = stripeEvent('payment_intent.canceled', fake.paymentIntents.get(pi));
    const capturable = stripeEvent('payment_intent.amount_capturable_updated', authorizedView, { created: canceled.created - 5 });

    expect((await deliver(canceled)).status).toBe(200);
    expect((await deliver(capturable)).status).toBe(200);
    expect((await settled(canceled.id)).status).toBe('processed');
    expect((await settled(capturable.id)).status).toBe('processed');
    const events = await streamEvents(`payment-${paymentId}`);
    expect(types(events)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCanceled']);
    expect(events[2]?.data).toMatchObject({ amountReleased: 2_500, reason: 'requested_by_customer' });
  });

  it('a declined payment told of payment_failed is already in agreement', async () => {
    const created = await api('POST', '/v1/payments', { customerId: 'cus_wh', currency: 'EUR', amount: 700, paymentMethod: 'pm_card_chargeDeclined' });
    expect(created.json).toMatchObject({ status: 'failed' });
    const intent = [...fake.paymentIntents.values()].find((p) => p.metadata.paymentId === created.json.id);
    const event = stripeEvent('payment_intent.payment_failed', intent);
    await deliver(event);
    expect(await settled(event.id)).toMatchObject({ status: 'processed', outcome: expect.stringMatching(/already agrees/) as unknown });
  });

  it('a PaymentIntent made in the dashboard, or one Stripe does not know, is recorded as ignored and listed', async () => {
    const foreign = await dashboard.paymentIntents.create({ amount: 1_000, currency: 'eur', payment_method: 'pm_card_visa', payment_method_types: ['card'], confirm: true });
    const event = stripeEvent('payment_intent.succeeded', foreign);
    expect((await deliver(event)).status).toBe(200);
    const row = await settled(event.id);
    expect(row).toMatchObject({ status: 'ignored', outcome: expect.stringMatching(/^unknown object: PaymentIntent pi_\w+ was not made by Ledger/) as unknown });

    const ghost = stripeEvent('payment_intent.canceled', { id: 'pi_neverexisted', object: 'payment_intent' });
    await deliver(ghost);
    expect((await settled(ghost.id)).outcome).toMatch(/does not exist at Stripe/);

    const listed = await api('GET', '/v1/admin/webhooks/inbox?status=ignored&limit=100');
    expect((listed.json.data as Record<string, unknown>[]).map((e) => e.eventId)).toEqual(expect.arrayContaining([event.id, ghost.id]));
  });
});

describe('Stripe webhooks: refunds', () => {
  it('reversed order: refund.updated (failed) before refund.created ends with the refund failed and its reservation released, once', async () => {
    const { paymentId } = await createPayment({ amount: 2_000, paymentMethod: 'pm_card_refundFail' });
    const requested = await api('POST', '/v1/refunds', { paymentId, amount: 500 });
    expect(requested).toMatchObject({ status: 201, json: { status: 'pending' } });
    const refundId = requested.json.id as string;
    const stripeRefund = [...fake.refunds.values()].find((r) => r.metadata.refundId === refundId);
    if (!stripeRefund) throw new Error('no Stripe refund');
    const createdView = structuredClone(stripeRefund);
    const updated = stripeEvent('refund.updated', { ...stripeRefund, status: 'failed', failure_reason: 'expired_or_canceled_card' });
    const created = stripeEvent('refund.created', createdView, { created: updated.created - 10 });

    await deliver(updated);
    await deliver(created);
    expect((await settled(updated.id)).status).toBe('processed');
    expect((await settled(created.id)).status).toBe('processed');
    // The refund process manager may have asked Stripe too: whoever was first, one outcome and one release.
    expect(types(await streamEvents(`refund-${refundId}`))).toEqual(['RefundRequested', 'RefundFailed']);
    expect(types(await streamEvents(`payment-${paymentId}`))).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentRefundReserved', 'PaymentRefundReleased']);
  });

  it('a refund made in the dashboard is imported once, when it has succeeded, and never asked of Stripe again; charge.refunded finds nothing open', async () => {
    const { paymentId, pi } = await createPayment({ amount: 3_000, paymentMethod: 'pm_card_visa' });
    const foreign = await dashboard.refunds.create({ payment_intent: pi, amount: 700 });
    const created = stripeEvent('refund.created', foreign);
    await deliver(created);
    const imported = await settled(created.id);
    expect(imported).toMatchObject({ status: 'processed', outcome: expect.stringContaining(`refund ${foreign.id} made outside Ledger imported as re_`) as unknown });
    const refundId = /imported as (re_\w+)/.exec(imported.outcome ?? '')?.[1] ?? '';
    expect(types(await streamEvents(`refund-${refundId}`))).toEqual(['RefundRequested', 'RefundSucceeded']);
    const paymentEvents = await streamEvents(`payment-${paymentId}`);
    expect(types(paymentEvents)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentRefundReserved', 'PaymentRefundSettled']);
    expect(paymentEvents[3]?.data).toMatchObject({ refundId, amount: 700, metadata: { stripeRefundId: foreign.id, source: 'stripe' } });

    // Late and repeated news of it changes nothing, and nothing asks Stripe for a refund (it would make a second one).
    const updated = stripeEvent('refund.updated', foreign, { created: created.created + 1 });
    await deliver(updated);
    expect((await settled(updated.id)).outcome).toMatch(/already imported as re_/);
    const charge = stripeEvent('charge.refunded', { id: fake.paymentIntents.get(pi)?.latest_charge, object: 'charge', payment_intent: pi, amount_refunded: 700 });
    await deliver(charge);
    expect(await settled(charge.id)).toMatchObject({ status: 'processed', outcome: expect.stringContaining(`payment ${paymentId}: 0 open refund(s) checked`) as unknown });
    await new Promise((r) => setTimeout(r, 1_500)); // the refund process manager's poll
    expect([...fake.refunds.values()].filter((r) => r.payment_intent === pi)).toHaveLength(1);
    expect(fake.requestsTo('POST', '/v1/refunds').filter((r) => r.params.payment_intent === pi)).toHaveLength(1);
    expect(types(await streamEvents(`payment-${paymentId}`))).toHaveLength(5);
    // The read model (projected from the same events) counts the money that went back.
    const deadline = Date.now() + 10_000;
    let view = await api('GET', `/v1/payments/${paymentId}`);
    while (view.json.amountRefunded !== 700 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      view = await api('GET', `/v1/payments/${paymentId}`);
    }
    expect(view.json).toMatchObject({ status: 'partially_refunded', amountRefunded: 700 });
  });

  it('a dashboard refund still pending at Stripe is recorded and left until it succeeds', async () => {
    const { pi } = await createPayment({ amount: 1_000, paymentMethod: 'pm_card_refundFail' });
    const foreign = await dashboard.refunds.create({ payment_intent: pi, amount: 400 });
    expect(foreign.status).toBe('pending');
    const event = stripeEvent('refund.created', foreign);
    await deliver(event);
    expect(await settled(event.id)).toMatchObject({ status: 'ignored', outcome: expect.stringMatching(/made outside Ledger and is (pending|failed) at Stripe: nothing moved/) as unknown });
  });
});

describe('Stripe webhooks: disputes, invoices, subscriptions, unknown types', () => {
  it('charge.dispute.* refetch the dispute and sync it: a late, older view does not move a closed dispute', async () => {
    const { paymentId, pi } = await createPayment({ amount: 6_000, paymentMethod: 'pm_card_visa' });
    const dispute = fake.createDispute(pi);
    const opened = stripeEvent('charge.dispute.created', structuredClone(dispute));
    await deliver(opened);
    expect((await settled(opened.id)).outcome).toMatch(new RegExp(`on payment ${paymentId}: needs_response`));
    expect(disputes.disputes.get(dispute.id)).toMatchObject({ paymentId, status: 'needs_response', feeAmount: 1_500 });

    const underReview = structuredClone(fake.updateDispute(dispute.id, { status: 'under_review' }));
    fake.updateDispute(dispute.id, { status: 'won' });
    const closed = stripeEvent('charge.dispute.closed', fake.disputes.get(dispute.id));
    const updated = stripeEvent('charge.dispute.updated', underReview, { created: closed.created - 5 });
    await deliver(closed);
    await deliver(updated);
    await settled(closed.id);
    expect((await settled(updated.id)).outcome).toMatch(/won, already recorded/);
    const held = disputes.disputes.get(dispute.id);
    expect(held?.status).toBe('won');
    // Every delivery of one event derives the same ids: the context carries Stripe's event id.
    expect(held?.contexts.map((c) => c.idempotency?.key)).toEqual([`stripe-event:${opened.id}`, `stripe-event:${closed.id}`, `stripe-event:${updated.id}`]);
  });

  it('a dispute on a payment made in the dashboard is an unknown object', async () => {
    const foreign = await dashboard.paymentIntents.create({ amount: 900, currency: 'eur', payment_method: 'pm_card_visa', payment_method_types: ['card'], confirm: true });
    const event = stripeEvent('charge.dispute.created', fake.createDispute(foreign.id));
    await deliver(event);
    expect(await settled(event.id)).toMatchObject({ status: 'ignored', outcome: expect.stringMatching(/^unknown object: dispute dp_\w+ is on pi_/) as unknown });
  });

  it('invoices and subscriptions of Stripe Billing, and types Ledger does not act on, are recorded as ignored', async () => {
    const invoice = stripeEvent('invoice.paid', { id: 'in_stripe123', object: 'invoice', metadata: {} });
    const subscription = stripeEvent('customer.subscription.deleted', { id: 'sub_stripe123', object: 'subscription', metadata: {} });
    const unknown = stripeEvent('customer.created', { id: 'cus_123', object: 'customer' });
    for (const e of [invoice, subscription, unknown]) expect((await deliver(e)).status).toBe(200);
    expect(await settled(invoice.id)).toMatchObject({ status: 'ignored', outcome: expect.stringMatching(/^unknown object: Stripe invoice in_stripe123/) as unknown });
    expect(await settled(subscription.id)).toMatchObject({ status: 'ignored', outcome: expect.stringMatching(/^unknown object: Stripe subscription sub_stripe123/) as unknown });
    expect(await settled(unknown.id)).toMatchObject({ status: 'ignored', outcome: 'event type customer.created is not one Ledger acts on' });
  });

  it('an invoice whose metadata names one of ours syncs its PaymentIntent; a subscription naming ours is recorded, not applied', async () => {
    const { paymentId, pi } = await createPayment({ amount: 1_500, paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    await dashboard.paymentIntents.capture(pi);
    const invoiceId = 'in_01JD0000000000000000000000';
    const paid = stripeEvent('invoice.paid', { id: 'in_stripe456', object: 'invoice', metadata: { invoiceId }, payment_intent: pi });
    await deliver(paid);
    expect(await settled(paid.id)).toMatchObject({ status: 'processed', outcome: expect.stringMatching(new RegExp(`^invoice ${invoiceId}: payment ${paymentId}: recorded PaymentCaptured 1500`)) as unknown });
    const subscriptionId = 'sub_01JD0000000000000000000000';
    const updated = stripeEvent('customer.subscription.updated', { id: 'sub_stripe456', object: 'subscription', metadata: { subscriptionId } });
    await deliver(updated);
    expect(await settled(updated.id)).toMatchObject({ status: 'ignored', outcome: expect.stringContaining(`names subscription ${subscriptionId}, but Ledger bills its subscriptions itself`) as unknown });
  });
});

describe('Stripe webhooks: kill safety', () => {
  it('an entry claimed by a processor that died is taken over once its claim lapses; a live claim is left alone', async () => {
    const { paymentId, pi } = await createPayment({ amount: 1_200, paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    await dashboard.paymentIntents.capture(pi);
    const orphan = stripeEvent('payment_intent.succeeded', fake.paymentIntents.get(pi));
    const held = stripeEvent('payment_intent.succeeded', fake.paymentIntents.get(pi));
    const insert = `INSERT INTO webhook_inbox (provider, event_id, type, object_id, provider_created_at, payload, status, attempts, claim_token, next_attempt_at)
                    VALUES ('stripe', $1, $2, $3, now(), $4::jsonb, 'processing', 1, $5::uuid, now() + make_interval(secs => $6))`;
    // A processor claimed it a minute ago and died: its claim lapsed a second ago.
    await db.pool.query(insert, [orphan.id, orphan.type, pi, JSON.stringify(orphan), randomUUID(), -1]);
    // Another holds a claim that is still good for an hour.
    await db.pool.query(insert, [held.id, held.type, pi, JSON.stringify(held), randomUUID(), 3_600]);

    const taken = await settled(orphan.id, ['processed']);
    expect(taken.attempts).toBe(2);
    expect(types(await streamEvents(`payment-${paymentId}`))).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);
    expect(await inboxRows(held.id)).toMatchObject([{ status: 'processing', attempts: 1 }]);
  });
});
