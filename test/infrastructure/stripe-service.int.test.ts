import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

/*
 * The whole service as `ledger serve` runs it with PAYMENT_PROVIDER=stripe, its Stripe
 * address pointed at the fake Stripe by configuration alone: payments, captures, refunds
 * and declines over HTTP become PaymentIntents and Refunds there.
 */

const fake = new FakeStripeServer();
let db: TestDatabase;
let service: RunningService;

beforeAll(async () => {
  const address = await fake.start();
  db = await createTestDatabase('stripe_service');
  service = await startTestService(db.url, {
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_service123',
    STRIPE_API_HOST: address.host,
    STRIPE_API_PORT: String(address.port),
    STRIPE_API_PROTOCOL: address.protocol,
    STRIPE_MAX_NETWORK_RETRIES: '1',
  });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  await fake.stop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${service.url}${path}`, {
    method: 'POST',
    headers: { ...(await authHeader()), 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('the service on PAYMENT_PROVIDER=stripe', () => {
  it('creates, partially captures and refunds through Stripe; a replayed create with the same Idempotency-Key makes no second intent', async () => {
    const body = { customerId: 'cus_svc', amount: 5_000, currency: 'EUR', paymentMethod: 'pm_card_visa', captureMethod: 'manual', metadata: { order: 'o-1' } };
    const created = await post('/v1/payments', body, { 'idempotency-key': 'svc-create-1' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: 'requires_capture', amountCapturable: 5_000 });
    const paymentId = created.json.id as string;
    const intents = [...fake.paymentIntents.values()].filter((pi) => pi.metadata.paymentId === paymentId);
    expect(intents).toHaveLength(1);
    expect(intents[0]).toMatchObject({ status: 'requires_capture', amount: 5_000, currency: 'eur', metadata: { customerId: 'cus_svc', order: 'o-1' } });

    const replay = await post('/v1/payments', body, { 'idempotency-key': 'svc-create-1' });
    expect(replay.status).toBe(201);
    expect(replay.json.id).toBe(paymentId);
    expect([...fake.paymentIntents.values()].filter((pi) => pi.metadata.paymentId === paymentId)).toHaveLength(1);

    const captured = await post(`/v1/payments/${paymentId}/capture`, { amount: 3_000 });
    expect(captured.status).toBe(200);
    expect(captured.json).toMatchObject({ status: 'succeeded', amountCaptured: 3_000, amountReleased: 2_000 });
    expect(fake.paymentIntents.get(intents[0]?.id ?? '')).toMatchObject({ status: 'succeeded', amount_received: 3_000 });
    expect(fake.requestsTo('POST', `/v1/payment_intents/${intents[0]?.id ?? ''}/capture`)[0]?.idempotencyKey).toBe(`capture:${paymentId}:3000`);

    const refunded = await post('/v1/refunds', { paymentId, amount: 1_000 });
    expect(refunded.status).toBe(201);
    expect(refunded.json).toMatchObject({ status: 'succeeded', amount: 1_000 });
    const stripeRefunds = [...fake.refunds.values()].filter((r) => r.payment_intent === intents[0]?.id);
    expect(stripeRefunds).toMatchObject([{ amount: 1_000, status: 'succeeded', metadata: { refundId: refunded.json.id, paymentId } }]);
    expect(fake.requestsTo('POST', '/v1/refunds').at(-1)?.idempotencyKey).toBe(refunded.json.id);
  });

  it('a Stripe decline is a failed payment carrying the decline code', async () => {
    const res = await post('/v1/payments', { customerId: 'cus_svc', amount: 700, currency: 'USD', paymentMethod: 'pm_card_chargeDeclinedStolenCard' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'failed', failure: { code: 'card_declined', declineCode: 'stolen_card' } });
  });

  it('a Stripe that keeps failing is 503 provider_unavailable, and a retry with the same key succeeds once it recovers', async () => {
    fake.failNext(2, 500);
    const body = { customerId: 'cus_svc', amount: 900, currency: 'USD', paymentMethod: 'pm_card_visa' };
    const down = await post('/v1/payments', body, { 'idempotency-key': 'svc-create-2' });
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({ code: 'provider_unavailable' });
    const up = await post('/v1/payments', body, { 'idempotency-key': 'svc-create-2' });
    expect(up.status).toBe(201);
    const keys = fake.requestsTo('POST', '/v1/payment_intents').slice(-3).map((r) => [r.status, r.idempotencyKey]);
    expect(keys.map(([s]) => s)).toEqual([500, 500, 200]);
    expect(new Set(keys.map(([, k]) => k)).size).toBe(1);
  });
});
