import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { mintToken } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';
import type { Receiver } from './support/receiver.js';
import { startReceiver } from './support/receiver.js';
import type { Verify } from './support/webhook-rig.js';
import { readmeSnippet } from './support/webhook-rig.js';

/* /v1/webhook-endpoints through the real app, and deliveries from the whole service. */

let db: TestDatabase;
let service: RunningService;
let receiver: Receiver;
let verify: Verify;
let manager: string;

beforeAll(async () => {
  db = await createTestDatabase('webhooks_http');
  receiver = await startReceiver();
  verify = await readmeSnippet();
  service = await startTestService(db.url, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '2000' });
  manager = await mintToken({ scopes: ['webhooks:manage'], sub: 'hooks-admin' });
});

afterAll(async () => {
  await service?.stop();
  await receiver?.close();
  await db?.drop();
});

async function call(method: string, path: string, body?: unknown, token = manager): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function eventually<T>(look: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await look();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error('not within the time allowed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/v1/webhook-endpoints', () => {
  it('creates (secret shown once), lists, reads, updates, rotates and deletes', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/crud`, events: ['payment.succeeded', 'refund.*'], description: 'orders' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'webhook_endpoint', url: `${receiver.url}/crud`, events: ['payment.succeeded', 'refund.*'], description: 'orders', status: 'enabled', disabledReason: null, secretRotation: null });
    expect(created.body.id).toMatch(/^we_/);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const id = String(created.body.id);

    const one = await call('GET', `/v1/webhook-endpoints/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    expect(one.body.id).toBe(id);
    const list = await call('GET', '/v1/webhook-endpoints?limit=10');
    expect((list.body.data as { id: string; secret?: string }[]).map((e) => [e.id, e.secret])).toEqual([[id, undefined]]);

    const patched = await call('PATCH', `/v1/webhook-endpoints/${id}`, { events: ['*'], disabled: true, description: null });
    expect(patched.body).toMatchObject({ events: ['*'], status: 'disabled', disabledReason: 'disabled by request', description: null });
    const enabled = await call('PATCH', `/v1/webhook-endpoints/${id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ status: 'enabled', disabledReason: null });

    const rotated = await call('POST', `/v1/webhook-endpoints/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect(rotated.body.secretRotation).toEqual({ previousSecretExpiresAt: expect.any(String) as unknown });
    const expiresInMs = Date.parse((rotated.body.secretRotation as { previousSecretExpiresAt: string }).previousSecretExpiresAt) - Date.now();
    expect(expiresInMs).toBeGreaterThan(23.9 * 3_600_000);
    expect(expiresInMs).toBeLessThanOrEqual(24 * 3_600_000);

    expect((await call('DELETE', `/v1/webhook-endpoints/${id}`)).body).toEqual({ id, object: 'webhook_endpoint', deleted: true });
    expect((await call('GET', `/v1/webhook-endpoints/${id}`)).body.code).toBe('webhook_endpoint_not_found');
    expect((await call('DELETE', `/v1/webhook-endpoints/${id}`)).status).toBe(404);
  });

  it('refuses bad input with problems', async () => {
    const typo = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/x`, events: ['payment.succeded'] });
    expect(typo.status).toBe(400);
    expect(typo.body).toMatchObject({ code: 'validation_failed', errors: [{ path: 'events', message: expect.stringMatching(/matches no event type/) as unknown }] });
    const scheme = await call('POST', '/v1/webhook-endpoints', { url: 'ftp://example.com/x', events: ['*'] });
    expect(scheme.status).toBe(422);
    expect(scheme.body.code).toBe('webhook_url_refused');
    expect((await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/x`, events: [] })).status).toBe(400);
    expect((await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/x`, events: ['*'], extra: 1 })).status).toBe(400);
    expect((await call('PATCH', '/v1/webhook-endpoints/we_nope', { disabled: true })).status).toBe(404);
  });

  it('needs webhooks:manage, and refuses customer-scoped credentials', async () => {
    const reader = await mintToken({ scopes: ['payments:read', 'payments:write'] });
    expect((await call('GET', '/v1/webhook-endpoints', undefined, reader)).body.code).toBe('insufficient_scope');
    const customer = await mintToken({ scopes: ['webhooks:manage'], customerId: 'cus_1' });
    const refused = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/x`, events: ['*'] }, customer);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    const admin = await mintToken({ scopes: ['admin'] });
    expect((await call('GET', '/v1/webhook-endpoints', undefined, admin)).status).toBe(200);
  });
});

describe('deliveries through the running service', () => {
  it('delivers a payment event, logs it, and re-sends it on request', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/live`, events: ['payment.*'] });
    const id = String(created.body.id);
    const secret = String(created.body.secret);
    const payer = await mintToken({ scopes: ['payments:write', 'payments:read'] });
    const payment = await call('POST', '/v1/payments', { customerId: 'cus_live', amount: 1234, currency: 'USD', paymentMethod: 'pm_card_visa' }, payer);
    expect(payment.status).toBe(201);

    const got = await eventually(() => receiver.onPath('/live')[0]);
    expect(verify(got.body, got.headers['ledger-signature'] as string, secret)).toBe(true);
    const event = JSON.parse(got.body) as { id: string; type: string; data: unknown };
    expect(event.type).toBe('payment.succeeded');
    // The same resource GET answers (this revision is the payment's latest).
    const position = payment.headers.get('ledger-position') ?? '';
    const read = await call('GET', `/v1/payments/${String(payment.body.id)}?minPosition=${position}`, undefined, payer);
    expect(event.data).toEqual(read.body);
    expect(JSON.stringify(event.data)).toBe(JSON.stringify(read.body));

    const log = await eventually(async () => {
      const page = await call('GET', `/v1/webhook-endpoints/${id}/deliveries`);
      const [first] = page.body.data as { id: string; status: string; attempts: number; attemptLog: unknown[]; eventId: string }[];
      return first?.status === 'succeeded' ? first : undefined;
    });
    expect(log).toMatchObject({ attempts: 1, eventId: event.id, lastStatusCode: 200 });

    const retried = await call('POST', `/v1/webhook-endpoints/${id}/deliveries/${log.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'succeeded', attempts: 2 });
    const sends = receiver.onPath('/live');
    expect(sends).toHaveLength(2);
    expect((JSON.parse(sends[1]!.body) as { id: string }).id).toBe(event.id);
    expect((await call('POST', `/v1/webhook-endpoints/${id}/deliveries/wd_nope/retry`)).body.code).toBe('webhook_delivery_not_found');
  });
});

describe('every resource the table maps', () => {
  it('sends refunds, subscriptions and invoices as their GET shows them', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/every`, events: ['*'] });
    const secret = String(created.body.secret);
    const token = await mintToken({ scopes: ['admin'] });
    const payment = await call('POST', '/v1/payments', { customerId: 'cus_all', amount: 5000, currency: 'USD', paymentMethod: 'pm_card_visa' }, token);
    const refund = await call('POST', '/v1/refunds', { paymentId: payment.body.id, amount: 2000 }, token);
    expect(refund.status).toBe(201);
    const subscription = await call('POST', '/v1/subscriptions', { customerId: 'cus_all', price: { amount: 900, currency: 'USD', interval: 'month' }, paymentMethod: 'pm_card_visa' }, token);
    expect(subscription.status).toBe(201);

    type Event = { id: string; type: string; data: { id: string; revision: string } };
    const events = (): Event[] => receiver.onPath('/every').map((r) => JSON.parse(r.body) as Event);
    const wanted = ['payment.succeeded', 'refund.created', 'refund.succeeded', 'payment.partially_refunded', 'subscription.created', 'invoice.created', 'invoice.paid', 'subscription.updated'];
    await eventually(() => (wanted.every((t) => events().some((e) => e.type === t)) ? true : undefined), 20_000);
    for (const r of receiver.onPath('/every')) expect(verify(r.body, r.headers['ledger-signature'] as string, secret)).toBe(true);
    expect(new Set(events().map((e) => e.id)).size).toBe(events().length);

    // The newest delivery of each resource equals what GET answers (at that revision).
    const newest = (type: string): Event => events().filter((e) => e.type === type).at(-1)!;
    const checks: [string, string][] = [
      ['refund.succeeded', `/v1/refunds/${String(refund.body.id)}`],
      ['payment.partially_refunded', `/v1/payments/${String(payment.body.id)}`],
      ['invoice.paid', `/v1/invoices/${newest('invoice.paid').data.id}`],
    ];
    for (const [type, path] of checks) {
      const event = newest(type);
      const got = await eventually(async () => {
        const read = await call('GET', path, undefined, token);
        return read.status === 200 && read.body.revision === event.data.revision ? read.body : undefined;
      });
      expect(JSON.stringify(event.data)).toBe(JSON.stringify(got));
    }
    const sub = newest('subscription.updated').data as unknown as { id: string; status: string; object: string };
    expect(sub).toMatchObject({ id: subscription.body.id, object: 'subscription', status: 'active' });
  }, 40_000);

  it('sends a dispute as GET /v1/disputes/:id shows it, from the processor opening it to its close', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/disputes`, events: ['dispute.*'] });
    const secret = String(created.body.secret);
    const token = await mintToken({ scopes: ['admin'] });
    // The simulated processor's test card: the cardholder disputes the charge once it is captured.
    const payment = await call('POST', '/v1/payments', { customerId: 'cus_dispute', amount: 5000, currency: 'USD', paymentMethod: 'pm_card_createDispute' }, token);
    expect(payment.status).toBe(201);

    type Event = { id: string; type: string; data: { id: string; revision: string; status: string; paymentId: string } };
    const events = (): Event[] => receiver.onPath('/disputes').map((r) => JSON.parse(r.body) as Event);
    const opened = await eventually(() => events().find((e) => e.type === 'dispute.created'), 20_000);
    expect(opened.data).toMatchObject({ paymentId: payment.body.id, status: 'needs_response' });
    const evidence = await call('POST', `/v1/disputes/${opened.data.id}/evidence`, { text: 'winning_evidence' }, token);
    expect(evidence.status).toBe(200);
    const closed = await eventually(() => events().find((e) => e.type === 'dispute.closed'), 20_000);
    expect(closed.data).toMatchObject({ id: opened.data.id, status: 'won' });
    for (const r of receiver.onPath('/disputes')) expect(verify(r.body, r.headers['ledger-signature'] as string, secret)).toBe(true);
    // Only dispute events reach an endpoint that asked for dispute.*.
    expect(events().every((e) => e.type.startsWith('dispute.'))).toBe(true);
    const read = await eventually(async () => {
      const got = await call('GET', `/v1/disputes/${opened.data.id}`, undefined, token);
      return got.status === 200 && got.body.revision === closed.data.revision ? got.body : undefined;
    });
    expect(JSON.stringify(closed.data)).toBe(JSON.stringify(read));
  }, 40_000);
});
