import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

/*
 * A Stripe dispute end to end, with nothing in-memory: signed charge.dispute.* webhooks
 * through the inbox, the real dispute command handler (payment found by its PaymentIntent id),
 * the disputes read model and the ledger. Delivered out of order and twice.
 */

const SECRET = 'whsec_disputes_0123456789abcdef';
const fake = new FakeStripeServer();
let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
  const address = await fake.start();
  db = await createTestDatabase('stripe_dispute_webhooks');
  service = await startTestService(db.url, {
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_disputes123',
    STRIPE_API_HOST: address.host,
    STRIPE_API_PORT: String(address.port),
    STRIPE_API_PROTOCOL: address.protocol,
    STRIPE_MAX_NETWORK_RETRIES: '0',
    STRIPE_WEBHOOK_SECRET: SECRET,
    WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS: '0',
  });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  await fake.stop();
});

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function stripeEvent(type: string, object: unknown, created = nowSeconds()): { id: string; created: number } & Record<string, unknown> {
  return { id: `evt_${randomBytes(12).toString('hex')}`, object: 'event', type, created, api_version: '2025-01-27.acacia', livemode: false, data: { object } };
}

async function deliver(event: unknown): Promise<number> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
  const res = await fetch(`${service.url}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  await res.arrayBuffer();
  return res.status;
}

async function settled(eventId: string): Promise<{ status: string; outcome: string | null }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await db.pool.query<{ status: string; outcome: string | null }>('SELECT status, outcome FROM webhook_inbox WHERE event_id = $1', [eventId]);
    if (rows[0] && ['processed', 'ignored', 'failed'].includes(rows[0].status)) return rows[0];
    if (Date.now() > deadline) throw new Error(`inbox entry ${eventId} not settled: ${rows[0]?.status ?? 'absent'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function get(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${service.url}${path}`, { headers: await authHeader() });
  expect(res.status, path).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function balance(account: string): Promise<number> {
  const body = await get(`/v1/ledger/accounts/${account}/balance?currency=EUR`);
  return (body.data as { balance: number }[])[0]!.balance;
}

/** The ledger projection runs behind the disputes read model: wait (bounded) for a balance. */
async function balanceBecomes(account: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await balance(account)) !== expected) {
    if (Date.now() > deadline) expect(await balance(account), account).toBe(expected);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Stripe disputes through webhooks, the real handler and the ledger', () => {
  it('opens, withholds, ignores a late older view and a duplicate, and reinstates on a win', async () => {
    const created = await fetch(`${service.url}/v1/payments`, {
      method: 'POST',
      headers: { ...(await authHeader()), 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'cus_dispute_wh', amount: 8_000, currency: 'EUR', paymentMethod: 'pm_card_visa' }),
    });
    expect(created.status).toBe(201);
    const paymentId = ((await created.json()) as { id: string }).id;
    const intent = [...fake.paymentIntents.values()].find((p) => p.metadata.paymentId === paymentId);
    if (!intent) throw new Error('no PaymentIntent');

    const dispute = fake.createDispute(intent.id);
    const opened = stripeEvent('charge.dispute.created', structuredClone(dispute));
    expect(await deliver(opened)).toBe(200);
    expect(await deliver(opened)).toBe(200); // Stripe delivers again: acknowledged, nothing more
    expect((await settled(opened.id)).status).toBe('processed');

    type Dispute = { id: string; status: string; amount: number; feeAmount: number };
    let ours: Dispute | undefined;
    for (const deadline = Date.now() + 10_000; !ours && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      [ours] = (await get(`/v1/disputes?paymentId=${paymentId}`)).data as Dispute[];
    }
    expect(ours).toMatchObject({ status: 'needs_response', amount: 8_000 });
    expect((await get(`/v1/disputes/${ours!.id}`)).revision).toBe('0');
    await balanceBecomes('disputed_funds', 8_000);
    await balanceBecomes('dispute_fees', ours!.feeAmount);
    const payment = await get(`/v1/payments/${paymentId}`);
    expect(payment.disputes).toEqual([expect.objectContaining({ id: ours!.id, status: 'needs_response' })]);

    // Stripe moves it on twice; the older view arrives after the newer one.
    const underReview = structuredClone(fake.updateDispute(dispute.id, { status: 'under_review' }));
    fake.updateDispute(dispute.id, { status: 'won' });
    const closed = stripeEvent('charge.dispute.closed', structuredClone(fake.disputes.get(dispute.id)));
    const late = stripeEvent('charge.dispute.updated', underReview, closed.created - 5);
    expect(await deliver(closed)).toBe(200);
    expect((await settled(closed.id)).status).toBe('processed');
    expect(await deliver(late)).toBe(200);
    expect((await settled(late.id)).status).toBe('processed');

    let won = await get(`/v1/disputes/${ours!.id}`);
    for (const deadline = Date.now() + 10_000; won.status !== 'won' && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      won = await get(`/v1/disputes/${ours!.id}`);
    }
    expect(won.status).toBe('won');
    // Opened, then closed: the late under_review view wrote nothing (a refetch shows the final state anyway).
    expect(won.revision).toBe('1');
    await balanceBecomes('disputed_funds', 0);
    expect(await balance('dispute_fees')).toBe(ours!.feeAmount);
    const { rows: events } = await db.pool.query<{ event_type: string }>('SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_revision', [`dispute-${ours!.id}`]);
    expect(events.map((e) => e.event_type)).toEqual(['DisputeOpened', 'DisputeClosed']);
  }, 40_000);
});
