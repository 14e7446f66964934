import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentCommands } from '../../src/application/ports/payment-commands.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
let failingReadiness: Harness;
beforeAll(async () => {
  const explode = (commands: PaymentCommands): PaymentCommands => ({
    ...commands,
    create: (input, ctx) =>
      input.customerId === 'cus_boom'
        ? Promise.reject(new Error('relation "secret_table" does not exist at SELECT password FROM users'))
        : commands.create(input, ctx),
    capture: (id, amount, ctx) => commands.capture(id, amount, ctx),
    cancel: (id, reason, ctx) => commands.cancel(id, reason, ctx),
  });
  h = await startHarness('http_ops', { wrapCommands: explode, limits: { requestTimeoutMs: 400 } });
  failingReadiness = await startHarness('http_ops_unready', {
    limits: { readinessTimeoutMs: 100 },
    readiness: [
      { name: 'postgres', check: () => Promise.resolve() },
      { name: 'eventstore', check: () => Promise.reject(new Error('ECONNREFUSED 10.1.2.3:2113')) },
      { name: 'slow', check: (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) },
    ],
  });
});
afterAll(async () => {
  await h?.close();
  await failingReadiness?.close();
});

describe('health and readiness', () => {
  it('GET /healthz is 200 {status: ok}', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when every check passes', async () => {
    const res = await h.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ready', checks: [{ name: 'postgres', status: 'ok' }] });
  });

  it('GET /readyz is 503 naming the failing and timed-out checks, without their internals', async () => {
    const res = await failingReadiness.request('GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.problem).toMatchObject({
      code: 'not_ready',
      checks: [
        { name: 'postgres', status: 'ok' },
        { name: 'eventstore', status: 'failed' },
        { name: 'slow', status: 'timed_out' },
      ],
    });
    expect(res.text).not.toContain('10.1.2.3');
    expect(res.headers.get('retry-after')).toBe('5');
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text with request durations, command outcomes and process metrics', async () => {
    await h.request('POST', '/v1/payments', { body: createBody() });
    await h.request('POST', '/v1/payments', { body: createBody({ paymentMethod: 'pm_card_bogus' }) });
    const res = await h.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/ledger_http_request_duration_seconds_bucket\{[^}]*method="POST"[^}]*route="\/v1\/payments"[^}]*status="201"/);
    expect(res.text).toContain('ledger_commands_total{command="create",outcome="success"} 1');
    expect(res.text).toContain('ledger_commands_total{command="create",outcome="provider_invalid_request"} 1');
    expect(res.text).toContain('ledger_process_cpu_seconds_total');
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with every route, the headers and the problem type', async () => {
    const res = await h.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }>; requestBody?: unknown }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }>; parameters: Record<string, unknown>; headers: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/admin/projections', '/v1/customers/{id}/activity', '/v1/payments', '/v1/payments/{id}',
        '/v1/payments/{id}/cancel', '/v1/payments/{id}/capture', '/v1/payments/{id}/refunds', '/v1/refunds', '/v1/refunds/{id}',
        '/v1/ledger/accounts', '/v1/ledger/accounts/{account}/balance', '/v1/ledger/entries', '/v1/ledger/trial-balance', '/v1/reports/revenue',
        '/v1/reports/mrr', '/v1/reports/mrr/history',
        '/v1/subscriptions', '/v1/subscriptions/{id}', '/v1/subscriptions/{id}/cancel', '/v1/subscriptions/{id}/change-price', '/v1/subscriptions/{id}/invoices',
        '/v1/subscriptions/{id}/pause', '/v1/subscriptions/{id}/resume', '/v1/invoices', '/v1/invoices/{id}',
        '/v1/test-clocks', '/v1/test-clocks/{id}', '/v1/test-clocks/{id}/advance',
        '/v1/webhook-endpoints', '/v1/webhook-endpoints/{id}', '/v1/webhook-endpoints/{id}/rotate-secret', '/v1/webhook-endpoints/{id}/deliveries',
        '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
        '/v1/disputes', '/v1/disputes/{id}', '/v1/disputes/{id}/evidence',
        '/v1/webhooks/stripe', '/v1/admin/webhooks/inbox', '/v1/admin/webhooks/inbox/{id}', '/v1/admin/webhooks/inbox/{id}/retry',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/v1/payments']!).sort()).toEqual(['get', 'post']);
    const create = doc.paths['/v1/payments']!.post!;
    expect(create.requestBody).toBeDefined();
    expect(Object.keys(create.responses['201']!.headers!)).toEqual(expect.arrayContaining(['Ledger-Position', 'ETag', 'Idempotent-Replayed']));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '409', '413', '415', '422', '500', '503']));
    expect(Object.keys(doc.paths['/v1/payments/{id}/capture']!.post!.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '412', '422']));
    expect(doc.components.schemas.CreatePaymentRequest!.properties).toHaveProperty('amount');
    expect(doc.components.schemas.Problem!.properties).toHaveProperty('errors');
    expect(doc.components.schemas.Payment!.properties).toHaveProperty('failure');
    expect(doc.components.parameters).toHaveProperty('IdempotencyKey');
    expect(doc.components.parameters).toHaveProperty('IfMatch');
    expect(doc.components.parameters).toHaveProperty('MinPosition');
    // Every $ref resolves inside the document.
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, name] of refs) expect((doc.components as Record<string, Record<string, unknown>>)[kind!]).toHaveProperty(name!);
  });
});

describe('errors and plumbing', () => {
  it('an unknown route is a 404 problem', async () => {
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/v1/payments'], ['GET', '/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E/capture']] as const) {
      const res = await h.request(method, path);
      expect(res.status).toBe(404);
      expect(res.problem).toMatchObject({ code: 'not_found', type: 'https://ledger.dev/problems/not_found' });
    }
  });

  it('an unexpected error is a bare 500: no message, stack or SQL in the body; logged with the request id', async () => {
    const res = await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_boom' }), headers: { 'x-request-id': 'boom-1' } });
    expect(res.status).toBe(500);
    expect(res.problem).toMatchObject({ code: 'internal_error', requestId: 'boom-1' });
    expect(res.text).not.toMatch(/secret_table|SELECT|password|at .*\.ts|Error:/);
    const logged = h.logs.find((l) => l.msg === 'unhandled error' && l.requestId === 'boom-1') as { err?: { message?: string; stack?: string } } | undefined;
    expect(logged?.err?.message).toContain('secret_table');
    expect(logged?.err?.stack).toBeDefined();
  });

  it('a 500 under an Idempotency-Key releases the key (the retry runs again)', async () => {
    const key = `boom-${Date.now()}`;
    const first = await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_boom' }), headers: { 'idempotency-key': key } });
    expect(first.status).toBe(500);
    const again = await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_boom' }), headers: { 'idempotency-key': key } });
    expect(again.status).toBe(500);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    const sane = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123_X.y:z' } });
    expect(sane.headers.get('x-request-id')).toBe('abc-123_X.y:z');
    const insane = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'a b\tc<script>' } });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await h.request('GET', '/healthz');
    expect(missing.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one access log line per request with method, route, status and duration', async () => {
    await h.request('GET', '/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', { headers: { 'x-request-id': 'log-1' } });
    await new Promise((r) => setTimeout(r, 20));
    const lines = h.logs.filter((l) => l.msg === 'request' && l.requestId === 'log-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', method: 'GET', route: '/v1/payments/:id', status: 404 });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('a request still unanswered after the request timeout gets a 503 problem', async () => {
    const gate = h.provider.holdNextAuthorize();
    const pending = h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': `slow-${Date.now()}` } });
    await gate.entered;
    const res = await pending;
    gate.release();
    expect(res.status).toBe(503);
    expect(res.problem.code).toBe('request_timeout');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
