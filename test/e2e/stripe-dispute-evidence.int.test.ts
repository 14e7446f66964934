import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

/*
 * POST /v1/disputes/:id/evidence with PAYMENT_PROVIDER=stripe, against the fake Stripe:
 * the evidence goes to Stripe once per Idempotency-Key, the answer is Stripe's
 * `under_review`, and test mode's outcome arrives later by charge.dispute.closed. A dispute
 * Stripe has closed before its webhook reached us is refused (409) and our copy catches up.
 */

const SECRET = 'whsec_evidence_0123456789abcdef';
const fake = new FakeStripeServer();
let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
  const address = await fake.start();
  db = await createTestDatabase('stripe_dispute_evidence');
  service = await startTestService(db.url, {
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_evidence123',
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

const stripeEvent = (type: string, object: unknown) => ({
  id: `evt_${randomBytes(12).toString('hex')}`, object: 'event', type, created: Math.floor(Date.now() / 1000), api_version: '2025-01-27.acacia', livemode: false, data: { object },
});

async function deliver(event: unknown): Promise<void> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
  const res = await fetch(`${service.url}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
}

async function call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${service.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(await authHeader()), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Polls (bounded) until the dispute read model shows what `ready` wants. */
async function until(path: string, ready: (body: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call(path);
    if (res.status === 200 && ready(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`${path} not ready: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A captured payment at the fake, disputed there, and the dispute known to us through its webhook. */
async function disputedPayment(customerId: string): Promise<{ disputeId: string; stripeDisputeId: string }> {
  const created = await call('/v1/payments', { method: 'POST', body: { customerId, amount: 7_000, currency: 'EUR', paymentMethod: 'pm_card_visa' } });
  expect(created.status).toBe(201);
  const paymentId = created.body.id as string;
  const intent = [...fake.paymentIntents.values()].find((p) => p.metadata.paymentId === paymentId);
  if (!intent) throw new Error('no PaymentIntent');
  const dispute = fake.createDispute(intent.id);
  await deliver(stripeEvent('charge.dispute.created', structuredClone(dispute)));
  const list = await until(`/v1/disputes?paymentId=${paymentId}`, (b) => (b.data as unknown[]).length === 1);
  return { disputeId: (list.data as { id: string }[])[0]!.id, stripeDisputeId: dispute.id };
}

describe('Dispute evidence through Stripe', () => {
  it('submits once per Idempotency-Key; Stripe answers under_review and charge.dispute.closed carries the win', async () => {
    const { disputeId, stripeDisputeId } = await disputedPayment('cus_evidence_1');
    const submit = () => call(`/v1/disputes/${disputeId}/evidence`, { method: 'POST', body: { text: 'winning_evidence' }, headers: { 'idempotency-key': 'evidence-attempt-1' } });
    const first = await submit();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: disputeId, status: 'under_review' });
    const again = await submit();
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const sent = fake.requestsTo('POST', `/v1/disputes/${stripeDisputeId}`);
    expect(sent.filter((r) => !r.replayed)).toHaveLength(1);
    expect(sent[0]).toMatchObject({ params: { evidence: { uncategorized_text: 'winning_evidence' }, submit: 'true' }, idempotencyKey: expect.stringMatching(new RegExp(`^evidence:${disputeId}:`)) });
    expect(new Set(sent.map((r) => r.idempotencyKey)).size).toBe(1);

    // Test mode decides after the answer; the outcome comes by webhook.
    await deliver(stripeEvent('charge.dispute.closed', structuredClone(fake.decideSubmittedDispute(stripeDisputeId))));
    expect(await until(`/v1/disputes/${disputeId}`, (b) => b.status === 'won')).toMatchObject({ status: 'won' });
    const late = await call(`/v1/disputes/${disputeId}/evidence`, { method: 'POST', body: { text: 'more' } });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('dispute_not_accepting_evidence');
  }, 40_000);

  it('a dispute Stripe already closed (its webhook not here yet) is 409 dispute_not_accepting_evidence, and ours shows it closed', async () => {
    const { disputeId, stripeDisputeId } = await disputedPayment('cus_evidence_2');
    fake.updateDispute(stripeDisputeId, { status: 'lost' });
    const refused = await call(`/v1/disputes/${disputeId}/evidence`, { method: 'POST', body: { text: 'too late' } });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'dispute_not_accepting_evidence' });
    expect(refused.body.detail).toContain('lost');
    expect(await until(`/v1/disputes/${disputeId}`, (b) => b.status === 'lost')).toMatchObject({ status: 'lost' });
    expect(fake.disputes.get(stripeDisputeId)?.evidence.uncategorized_text).toBeNull();
  }, 40_000);
});
