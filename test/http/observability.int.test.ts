import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryRateLimiter } from '../../src/infrastructure/http/rate-limit.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * What operators read about HTTP: the route label of every answer (also of those refused
 * before routing: 401, 429) in metrics and the access log, and the problem code of a 4xx.
 */

let h: Harness;
let limited: Harness;
beforeAll(async () => {
  [h, limited] = await Promise.all([
    startHarness('http_observability'),
    startHarness('http_observability_limits', {
      rateLimiter: () => inMemoryRateLimiter({ credential: { points: 1, durationSeconds: 60 }, unauthenticated: { points: 1, durationSeconds: 60 } }),
      trustProxy: true,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([h?.close(), limited?.close()]);
});

const PAY_ID = 'pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E';

const accessLine = (harness: Harness, requestId: string): Record<string, unknown> | undefined =>
  harness.logs.find((l) => l.msg === 'request' && l.requestId === requestId);

/** The count of the request-duration histogram for one label set (0 when absent). */
async function requestCount(harness: Harness, labels: { method: string; route: string; status: number }): Promise<number> {
  const text = (await harness.request('GET', '/metrics', { token: null })).text;
  const series = `ledger_http_request_duration_seconds_count{method="${labels.method}",route="${labels.route}",status="${labels.status}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('route labels of answers given before routing', () => {
  it.each([
    ['POST', `/v1/payments/${PAY_ID}/capture`, '/v1/payments/:id/capture'],
    ['POST', `/v1/payments/${PAY_ID}/cancel`, '/v1/payments/:id/cancel'],
    ['GET', `/v1/payments/${PAY_ID}`, '/v1/payments/:id'],
    ['GET', '/v1/payments?limit=5', '/v1/payments'],
    ['POST', '/v1/payments', '/v1/payments'],
    ['GET', '/v1/admin/projections', '/v1/admin/projections'],
  ])('a 401 on %s %s is labelled %s', async (method, path, route) => {
    const before = await requestCount(h, { method, route, status: 401 });
    const requestId = `label-401-${method}-${route.replace(/[^a-z]/g, '')}`;
    const res = await h.request(method, path, { token: null, headers: { 'x-request-id': requestId }, ...(method === 'POST' ? { body: {} } : {}) });
    expect(res.status).toBe(401);
    await settle();
    expect(await requestCount(h, { method, route, status: 401 })).toBe(before + 1);
    expect(accessLine(h, requestId)).toMatchObject({ route, status: 401, code: 'unauthorized', authFailure: 'missing_credentials' });
  });

  it('a path no route serves stays unmatched', async () => {
    const res = await h.request('GET', '/v1/nothing/here', { token: null, headers: { 'x-request-id': 'label-401-nowhere' } });
    expect(res.status).toBe(401);
    await settle();
    expect(accessLine(h, 'label-401-nowhere')).toMatchObject({ route: 'unmatched', status: 401 });
  });

  it('a 429 (per credential, and per address after failed authentications) carries the real route', async () => {
    const token = await limited.token({ scopes: ['payments:read'], sub: 'label-429' });
    const headers = { 'x-forwarded-for': '198.51.100.77' };
    expect((await limited.request('GET', `/v1/payments/${PAY_ID}`, { token, headers })).status).toBe(404);
    const refused = await limited.request('GET', `/v1/payments/${PAY_ID}`, { token, headers: { ...headers, 'x-request-id': 'label-429-credential' } });
    expect(refused.status).toBe(429);

    const anonymous = { 'x-forwarded-for': '198.51.100.78' };
    expect((await limited.request('POST', `/v1/payments/${PAY_ID}/capture`, { token: null, headers: anonymous })).status).toBe(401);
    const blocked = await limited.request('POST', `/v1/payments/${PAY_ID}/capture`, { token: null, headers: { ...anonymous, 'x-request-id': 'label-429-address' } });
    expect(blocked.status).toBe(429);
    await settle();

    expect(accessLine(limited, 'label-429-credential')).toMatchObject({ route: '/v1/payments/:id', status: 429, code: 'rate_limited' });
    expect(accessLine(limited, 'label-429-address')).toMatchObject({ route: '/v1/payments/:id/capture', status: 429, code: 'rate_limited' });
    expect(await requestCount(limited, { method: 'GET', route: '/v1/payments/:id', status: 429 })).toBe(1);
    expect(await requestCount(limited, { method: 'POST', route: '/v1/payments/:id/capture', status: 429 })).toBe(1);
    const text = (await limited.request('GET', '/metrics', { token: null })).text;
    expect(text).toContain('ledger_rate_limit_refusals_total{bucket="credential"} 1');
    expect(text).toContain('ledger_rate_limit_refusals_total{bucket="unauthenticated"} 1');
  });
});

describe('the access log line of a 4xx carries the problem code', () => {
  it.each([
    ['validation', 'POST', '/v1/payments', createBody({ amount: -1 }), 400, 'validation_failed'],
    ['unknown payment', 'GET', `/v1/payments/${PAY_ID}`, undefined, 404, 'payment_not_found'],
    ['no route', 'GET', '/v1/nothing/here', undefined, 404, 'not_found'],
  ] as const)('%s', async (_label, method, path, body, status, code) => {
    const requestId = `code-${code}`;
    const res = await h.request(method, path, { headers: { 'x-request-id': requestId }, ...(body === undefined ? {} : { body }) });
    expect(res.status).toBe(status);
    await settle();
    expect(accessLine(h, requestId)).toMatchObject({ status, code });
  });

  it('a command refused by the domain, and a scope refusal', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'automatic' }) });
    expect(created.status).toBe(201);
    const again = await h.request('POST', `/v1/payments/${created.payment.id}/cancel`, { headers: { 'x-request-id': 'code-illegal' } });
    expect(again.status).toBe(409);
    const reader = await h.token({ scopes: ['payments:read'] });
    const scoped = await h.request('POST', '/v1/payments', { token: reader, body: createBody(), headers: { 'x-request-id': 'code-scope' } });
    expect(scoped.status).toBe(403);
    await settle();
    expect(accessLine(h, 'code-illegal')).toMatchObject({ status: 409, code: again.problem.code });
    expect(accessLine(h, 'code-scope')).toMatchObject({ status: 403, code: 'insufficient_scope', route: '/v1/payments' });
  });

  it('a success has no code', async () => {
    await h.request('GET', '/v1/payments', { headers: { 'x-request-id': 'code-none' } });
    await settle();
    expect(accessLine(h, 'code-none')).toMatchObject({ status: 200 });
    expect(accessLine(h, 'code-none')).not.toHaveProperty('code');
  });
});
