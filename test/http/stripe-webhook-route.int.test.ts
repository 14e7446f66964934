import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewInboxEntry } from '../../src/application/ports/provider-inbox.js';
import { createHttpApp } from '../../src/infrastructure/http/app.js';
import type { HttpDeps, StripeWebhookHttpDeps } from '../../src/infrastructure/http/deps.js';
import { inMemoryRateLimiter } from '../../src/infrastructure/http/rate-limit.js';
import { WEBHOOK_BODY_LIMIT_BYTES } from '../../src/infrastructure/http/routes/stripe-webhooks.js';
import { StripeWebhookVerifier } from '../../src/infrastructure/stripe/stripe-webhook-verifier.js';

/*
 * POST /v1/webhooks/stripe in the real Express app with an inbox in memory: the route's
 * own guards (not configured, the raw body, the size limit, the allowance of failed
 * signatures). The whole path with PostgreSQL is test/infrastructure/stripe-webhooks.int.test.ts.
 */

const SECRET = 'whsec_unit_0123456789';
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by the webhook route')) });

interface Fixture {
  readonly url: string;
  readonly recorded: NewInboxEntry[];
  wakes: number;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function start(webhooks: 'absent' | 'no secret' | 'configured', failedSignaturesPerMinute = 1_000): Promise<Fixture> {
  const fixture = { url: '', recorded: [] as NewInboxEntry[], wakes: 0 };
  const seen = new Set<string>();
  const stripeWebhooks: StripeWebhookHttpDeps = {
    verifier: webhooks === 'configured' ? new StripeWebhookVerifier([SECRET], 300) : null,
    inbox: {
      ...(unused as StripeWebhookHttpDeps['inbox']),
      record: (entry) => {
        const duplicate = seen.has(entry.eventId);
        seen.add(entry.eventId);
        if (!duplicate) fixture.recorded.push(entry);
        return Promise.resolve({ duplicate });
      },
    },
    wake: () => void fixture.wakes++,
  };
  const deps = {
    payments: unused, refunds: unused, paymentQueries: unused, refundQueries: unused, ledgerQueries: unused, readModels: unused,
    revenueReports: unused, mrrReports: unused, idempotency: unused, authenticator: unused,
    readiness: [],
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: { contentType: 'text/plain', observeHttpRequest: () => undefined, countCommand: () => undefined, countIdempotentReplay: () => undefined, countRateLimitRefusal: () => undefined, render: () => Promise.resolve('') },
    clock: { now: () => new Date() },
    rateLimiter: inMemoryRateLimiter({ credential: { points: 1_000, durationSeconds: 60 }, unauthenticated: { points: failedSignaturesPerMinute, durationSeconds: 60 } }),
    cors: { origins: [] },
    metricsAuth: 'none',
    production: false,
    ...(webhooks === 'absent' ? {} : { stripeWebhooks }),
  } as unknown as HttpDeps;
  const app = createHttpApp(deps);
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  fixture.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/stripe`;
  return fixture;
}

const event = (id = 'evt_unit_1') => ({ id, object: 'event', type: 'payment_intent.succeeded', created: Math.floor(Date.now() / 1000), data: { object: { id: 'pi_1', object: 'payment_intent' } } });

async function post(url: string, payload: string, signature: string | undefined = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET })) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'stripe-signature': signature }) }, body: payload });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /v1/webhooks/stripe', () => {
  it('without STRIPE_WEBHOOK_SECRET (or without the inbox) answers 503 webhooks_not_configured, so Stripe retries', async () => {
    for (const mode of ['absent', 'no secret'] as const) {
      const { url } = await start(mode);
      const res = await post(url, JSON.stringify(event()));
      expect(res.status).toBe(503);
      expect(res.json).toMatchObject({ code: 'webhooks_not_configured' });
      expect(res.headers.get('retry-after')).toBe('60');
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      server = undefined;
    }
  });

  it('verifies the raw bytes (formatting included), records them as sent, and wakes the processor once per new event', async () => {
    const f = await start('configured');
    const payload = JSON.stringify(event(), null, 2);
    const first = await post(f.url, payload);
    expect(first).toMatchObject({ status: 200, json: { received: true, duplicate: false } });
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(f.recorded).toEqual([{ provider: 'stripe', eventId: 'evt_unit_1', type: 'payment_intent.succeeded', objectId: 'pi_1', providerCreatedAt: expect.any(Date) as Date, payloadJson: payload }]);
    expect((await post(f.url, payload)).json).toMatchObject({ duplicate: true });
    expect(f.wakes).toBe(1);
  });

  it('a signed body that is not a Stripe event is 400 validation_failed; one over the limit is 413; neither is recorded', async () => {
    const f = await start('configured');
    const notEvent = await post(f.url, JSON.stringify({ hello: 'world' }));
    expect(notEvent).toMatchObject({ status: 400, json: { code: 'validation_failed' } });
    const big = JSON.stringify({ ...event('evt_big'), padding: 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES) });
    const tooLarge = await post(f.url, big);
    expect(tooLarge).toMatchObject({ status: 413, json: { code: 'payload_too_large' } });
    expect(f.recorded).toEqual([]);
  });

  it('failed signatures draw on the address\'s allowance; once spent, even a valid delivery from there is 429 and not recorded', async () => {
    const f = await start('configured', 2);
    const payload = JSON.stringify(event('evt_limited'));
    expect((await post(f.url, payload, 't=1,v1=deadbeef')).status).toBe(400);
    expect((await post(f.url, payload, undefined)).status).toBe(200);
    expect((await post(f.url, JSON.stringify(event('evt_limited_2')), 'nonsense')).status).toBe(400);
    const limited = await post(f.url, JSON.stringify(event('evt_limited_3')), 'nonsense');
    expect(limited).toMatchObject({ status: 429, json: { code: 'rate_limited' } });
    const valid = await post(f.url, JSON.stringify(event('evt_limited_4')));
    expect(valid.status).toBe(429);
    expect(f.recorded.map((e) => e.eventId)).toEqual(['evt_limited']);
  });
});
