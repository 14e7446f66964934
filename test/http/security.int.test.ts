import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/application/auth/principal.js';
import type { RateLimiter } from '../../src/infrastructure/http/deps.js';
import { corsPolicy } from '../../src/infrastructure/http/hardening.js';
import type { RateLimitPolicy } from '../../src/infrastructure/http/rate-limit.js';
import { inMemoryRateLimiter, postgresRateLimiter } from '../../src/infrastructure/http/rate-limit.js';
import type { ApiResponse, Harness, RequestOptions } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * Negative tests for authentication, authorization, customer scoping and the hardening
 * rules of the HTTP layer, through the real app over PostgreSQL. Every refused command
 * is checked to have appended nothing.
 */

let h: Harness;
/** CORS allowlist, /metrics behind admin, production (HSTS). */
let hardened: Harness;
/** Tiny allowances; trusts X-Forwarded-For so each test can be its own client address. */
let limited: Harness;
/** The same tiny allowances kept in PostgreSQL. */
let limitedPg: Harness;
let pgLimiter: RateLimiter;

const TINY: RateLimitPolicy = { credential: { points: 3, durationSeconds: 60 }, unauthenticated: { points: 2, durationSeconds: 60 } };
const ALLOWED_ORIGIN = 'https://app.example.com';
const UNKNOWN_ID = 'pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E';

beforeAll(async () => {
  [h, hardened, limited, limitedPg] = await Promise.all([
    startHarness('http_security'),
    startHarness('http_security_hard', { corsOrigins: [ALLOWED_ORIGIN], metricsAuth: 'admin', production: true }),
    startHarness('http_security_limits', { rateLimiter: () => inMemoryRateLimiter(TINY), trustProxy: true }),
    startHarness('http_security_pg_limits', {
      rateLimiter: async (db) => {
        pgLimiter = await postgresRateLimiter(db.pool, TINY);
        return pgLimiter;
      },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([h?.close(), hardened?.close(), limited?.close(), limitedPg?.close()]);
});

const expectProblem = (res: ApiResponse, status: number, code: string): void => {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.problem).toMatchObject({ status, code, type: `https://ledger.dev/problems/${code}` });
  expect(res.text).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT/);
};

/** Runs `send` and checks that it appended no event. */
async function appendsNothing(harness: Harness, send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  const before = await harness.countEvents();
  const res = await send();
  expect(await harness.countEvents(), `${res.status} ${res.text}`).toBe(before);
  return res;
}

async function manualPayment(harness: Harness, customerId: string): Promise<{ id: string; position: string }> {
  const res = await harness.request('POST', '/v1/payments', { body: createBody({ customerId, captureMethod: 'manual' }) });
  expect(res.status, res.text).toBe(201);
  return { id: res.payment.id, position: res.headers.get('ledger-position')! };
}

/** Every /v1 operation, with what it needs to get past validation. */
const endpoints = (paymentId: string): { name: string; method: string; path: string; options: RequestOptions }[] => [
  { name: 'create', method: 'POST', path: '/v1/payments', options: { body: createBody() } },
  { name: 'capture', method: 'POST', path: `/v1/payments/${paymentId}/capture`, options: { body: {} } },
  { name: 'cancel', method: 'POST', path: `/v1/payments/${paymentId}/cancel`, options: { body: {} } },
  { name: 'get', method: 'GET', path: `/v1/payments/${paymentId}`, options: {} },
  { name: 'list', method: 'GET', path: '/v1/payments', options: {} },
  { name: 'admin projections', method: 'GET', path: '/v1/admin/projections', options: {} },
  { name: 'get refund', method: 'GET', path: '/v1/refunds/re_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', options: {} },
  { name: 'list refunds', method: 'GET', path: '/v1/refunds', options: {} },
  { name: 'list payment refunds', method: 'GET', path: `/v1/payments/${paymentId}/refunds`, options: {} },
  { name: 'unknown /v1 route', method: 'GET', path: '/v1/nothing-here', options: {} },
];

describe('authentication on every /v1 endpoint', () => {
  let paymentId: string;
  beforeAll(async () => {
    paymentId = (await manualPayment(h, 'cus_auth')).id;
  });

  it('no Authorization header: 401 problem with a bare Bearer challenge, nothing appended', async () => {
    for (const e of endpoints(paymentId)) {
      const res = await appendsNothing(h, () => h.request(e.method, e.path, { ...e.options, token: null }));
      expectProblem(res, 401, 'unauthorized');
      expect(res.problem, e.name).toMatchObject({ reason: 'missing_credentials' });
      expect(res.problem.detail).toContain('Authorization: Bearer');
      expect(res.headers.get('www-authenticate'), e.name).toBe('Bearer realm="ledger"');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('a malformed Authorization header: 401 invalid_request', async () => {
    const malformed = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer tok<script>', 'Token abc', 'Bearer\tabc', `Bearer ${'a'.repeat(5000)}`, 'Bearer abc.def.ghi'];
    for (const authorization of malformed) {
      const res = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body: createBody(), headers: { authorization } }));
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate'), authorization).toMatch(/^Bearer realm="ledger", error="(invalid_request|invalid_token)", error_description="[^"]+"$/);
    }
    const res = await h.request('GET', '/v1/payments', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
    expect(res.problem).toMatchObject({ reason: 'malformed_credentials' });
  });

  it('an expired token: 401 invalid_token saying it expired', async () => {
    const expired = await h.token({ scopes: ['admin'], expiresIn: -60 });
    for (const e of endpoints(paymentId)) {
      const res = await appendsNothing(h, () => h.request(e.method, e.path, { ...e.options, token: expired }));
      expectProblem(res, 401, 'unauthorized');
      expect(res.problem).toMatchObject({ reason: 'expired_credentials' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ledger", error="invalid_token", error_description="The token has expired"');
    }
  });

  it('a token signed with another key: 401 invalid_token', async () => {
    const forged = await h.token({ scopes: ['admin'], secret: 'not-the-secret-the-service-trusts-0123456789' });
    for (const e of endpoints(paymentId)) {
      const res = await appendsNothing(h, () => h.request(e.method, e.path, { ...e.options, token: forged }));
      expectProblem(res, 401, 'unauthorized');
      expect(res.problem).toMatchObject({ reason: 'invalid_credentials' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ledger", error="invalid_token"/);
    }
  });

  it('an unsigned token (alg none) and a tampered payload are refused', async () => {
    const valid = await h.token({ scopes: ['payments:read'] });
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url')}.${signature}`;
    for (const token of [none, tampered]) {
      const res = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body: createBody(), token }));
      expectProblem(res, 401, 'unauthorized');
    }
  });

  it('path variants (case, trailing or doubled slashes) never get past authentication or the admin check', async () => {
    const read = await h.token({ scopes: ['payments:read'] });
    for (const path of ['/V1/payments', '/v1/payments/', '/v1//payments', '/v1/Payments', `/V1/PAYMENTS/${paymentId}`, '/v1/%70ayments']) {
      const res = await h.request('GET', path, { token: null });
      expectProblem(res, 401, 'unauthorized');
    }
    for (const path of ['/V1/ADMIN/projections', '/v1/admin/projections/', '/v1/Admin/projections', '/v1/admin//projections', '/v1//admin/projections']) {
      const res = await h.request('GET', path, { token: read });
      expect(res.status, path).not.toBe(200);
      expect([403, 404], path).toContain(res.status);
    }
  });

  it('an authenticator that fails (its store is down) is a 503 with Retry-After, logged without the token', async () => {
    const broken = await startHarness('http_security_auth_down', {
      authenticator: { authenticate: () => Promise.reject(new Error('connection refused')) },
      rateLimiter: () => inMemoryRateLimiter(TINY),
    });
    try {
      for (let i = 0; i < 4; i++) {
        // More attempts than the failed-authentication allowance: an outage is not the client's failure.
        const res = await appendsNothing(broken, () => broken.request('POST', '/v1/payments', { body: createBody(), token: 'some.valid.looking-token' }));
        expectProblem(res, 503, 'authentication_unavailable');
        expect(res.headers.get('retry-after')).toBe('1');
        expect(res.text).not.toContain('connection refused');
      }
      expect(JSON.stringify(broken.logs)).not.toContain('some.valid.looking-token');
      expect(broken.logs.some((l) => l.msg === 'authenticator failed')).toBe(true);
    } finally {
      await broken.close();
    }
  });

  it('the problem never echoes the token or the authenticator\'s own words', async () => {
    const forged = await h.token({ scopes: ['admin'], secret: 'not-the-secret-the-service-trusts-0123456789' });
    const res = await h.request('GET', '/v1/payments', { token: forged });
    expect(res.text).not.toContain(forged);
    expect(res.text).not.toContain(forged.split('.')[2]!);
    expect(res.text).not.toMatch(/signature verification/i);
  });
});

describe('authorization by scope', () => {
  let paymentId: string;
  let readToken: string;
  let writeToken: string;
  beforeAll(async () => {
    paymentId = (await manualPayment(h, 'cus_scopes')).id;
    readToken = await h.token({ scopes: ['payments:read'] });
    writeToken = await h.token({ scopes: ['payments:write'] });
  });

  it('a payments:read token cannot run a command: 403 insufficient_scope naming the scope, nothing appended', async () => {
    for (const e of endpoints(paymentId).filter((x) => x.method === 'POST')) {
      const res = await appendsNothing(h, () => h.request(e.method, e.path, { ...e.options, token: readToken }));
      expectProblem(res, 403, 'insufficient_scope');
      expect(res.problem).toMatchObject({ requiredScope: 'payments:write' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ledger", error="insufficient_scope", error_description="Needs the payments:write scope", scope="payments:write"');
    }
    expect((await h.request('GET', `/v1/payments/${paymentId}`, { token: readToken })).status).toBe(200);
    expect((await h.request('GET', '/v1/payments', { token: readToken })).status).toBe(200);
  });

  it('a payments:write token cannot use admin endpoints, nor read (write does not imply read)', async () => {
    const admin = await h.request('GET', '/v1/admin/projections', { token: writeToken });
    expectProblem(admin, 403, 'insufficient_scope');
    expect(admin.problem).toMatchObject({ requiredScope: 'admin' });
    expectProblem(await h.request('GET', '/v1/admin/anything-else', { token: writeToken }), 403, 'insufficient_scope');
    expectProblem(await h.request('GET', `/v1/payments/${paymentId}`, { token: writeToken }), 403, 'insufficient_scope');
    expectProblem(await h.request('GET', '/v1/payments', { token: writeToken }), 403, 'insufficient_scope');
    const created = await h.request('POST', '/v1/payments', { body: createBody(), token: writeToken });
    expect(created.status).toBe(201);
  });

  it('the scope is checked before the body is read: a read token with an oversized or broken body is still 403', async () => {
    const res = await appendsNothing(h, () =>
      h.request('POST', '/v1/payments', { rawBody: '{"not json', headers: { 'content-type': 'application/json' }, token: readToken }),
    );
    expectProblem(res, 403, 'insufficient_scope');
  });

  it('admin implies every scope', async () => {
    const admin = await h.token({ scopes: ['admin'] });
    expect((await h.request('GET', '/v1/admin/projections', { token: admin })).status).toBe(200);
    expect((await h.request('GET', '/v1/payments', { token: admin })).status).toBe(200);
    expect((await h.request('POST', `/v1/payments/${paymentId}/capture`, { body: {}, token: admin })).status).toBe(200);
  });

  it('a customer-scoped token is no operator even with every payment scope', async () => {
    const scoped = await h.token({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_x' });
    expectProblem(await h.request('GET', '/v1/admin/projections', { token: scoped }), 403, 'insufficient_scope');
  });
});

describe('a customer-scoped token sees only its customer', () => {
  let mine: string;
  let theirs: string;
  let tokenA: string;
  let lastPosition: string;
  const A = 'cus_scope_a';
  const B = 'cus_scope_b';
  const both: Scope[] = ['payments:read', 'payments:write'];

  beforeAll(async () => {
    mine = (await manualPayment(h, A)).id;
    const other = await manualPayment(h, B);
    theirs = other.id;
    lastPosition = other.position;
    tokenA = await h.token({ scopes: both, customerId: A });
  });

  it('GET of another customer\'s payment is the same 404 as a payment that does not exist', async () => {
    const other = await h.request('GET', `/v1/payments/${theirs}`, { token: tokenA });
    const absent = await h.request('GET', `/v1/payments/${UNKNOWN_ID}`, { token: tokenA });
    expectProblem(other, 404, 'payment_not_found');
    const { requestId: _r1, instance: _i1, detail: d1, ...restOther } = other.problem;
    const { requestId: _r2, instance: _i2, detail: d2, ...restAbsent } = absent.problem;
    expect(restOther).toEqual(restAbsent);
    expect(d1.replace(theirs, 'ID')).toBe(d2.replace(UNKNOWN_ID, 'ID'));
    expect(other.text).not.toContain(B);
    expect((await h.request('GET', `/v1/payments/${mine}`, { token: tokenA })).payment.customerId).toBe(A);
  });

  it('the list is filtered to the token\'s customer; naming another customer is 403', async () => {
    const implied = await h.request('GET', `/v1/payments?minPosition=${lastPosition}`, { token: tokenA });
    expect(implied.status).toBe(200);
    expect(implied.page.data.length).toBeGreaterThan(0);
    expect(implied.page.data.every((p) => p.customerId === A)).toBe(true);
    expect(implied.page.data.map((p) => p.id)).toContain(mine);
    expect(implied.page.data.map((p) => p.id)).not.toContain(theirs);

    const own = await h.request('GET', `/v1/payments?customerId=${A}`, { token: tokenA });
    expect(own.page.data.map((p) => p.id)).toEqual(implied.page.data.map((p) => p.id));

    const other = await h.request('GET', `/v1/payments?customerId=${B}`, { token: tokenA });
    expectProblem(other, 403, 'forbidden');
    expect(other.problem.errors?.[0]?.path).toBe('customerId');
    expect(other.text).not.toContain(theirs);

    // Whatever the status filter, no other customer's payment shows up.
    for (const status of ['requires_capture', 'succeeded', 'canceled', 'failed']) {
      const page = await h.request('GET', `/v1/payments?status=${status}&limit=100`, { token: tokenA });
      expect(page.page.data.every((p) => p.customerId === A), status).toBe(true);
    }
    // An unscoped token still sees both.
    const all = await h.request('GET', '/v1/payments?limit=100');
    expect(all.page.data.map((p) => p.customerId)).toEqual(expect.arrayContaining([A, B]));
  });

  it('capture and cancel of another customer\'s payment are 404, with or without If-Match, and change nothing', async () => {
    for (const action of ['capture', 'cancel']) {
      const variants: Record<string, string>[] = [{}, { 'if-match': '"0"' }, { 'idempotency-key': `scoped-${action}` }];
      for (const headers of variants) {
        const res = await appendsNothing(h, () => h.request('POST', `/v1/payments/${theirs}/${action}`, { body: {}, headers, token: tokenA }));
        expectProblem(res, 404, 'payment_not_found');
      }
    }
    expect((await h.request('GET', `/v1/payments/${theirs}`)).payment.status).toBe('requires_capture');
  });

  it('creating for another customer is 403 naming customerId; for its own, 201', async () => {
    const res = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body: createBody({ customerId: B }), token: tokenA }));
    expectProblem(res, 403, 'forbidden');
    expect(res.problem.errors).toEqual([{ path: 'customerId', message: expect.any(String) as string }]);
    const own = await h.request('POST', '/v1/payments', { body: createBody({ customerId: A }), token: tokenA });
    expect(own.status).toBe(201);
    expect((await h.store.readStream(`payment-${own.payment.id}`)).events[0]!.metadata.actor).toBe('jwt:test-payments:read+payments:write@cus_scope_a');
  });

  it('an Idempotency-Key cannot replay, under one subject\'s token for customer B, what its token for customer A created', async () => {
    const tokenForA = await h.token({ scopes: both, customerId: A, sub: 'shared-subject' });
    const tokenForB = await h.token({ scopes: both, customerId: B, sub: 'shared-subject' });
    const key = `cross-customer-${Date.now()}`;
    const body = createBody({ customerId: A });
    const first = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key }, token: tokenForA });
    expect(first.status).toBe(201);
    const replayAttempt = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key }, token: tokenForB }));
    expectProblem(replayAttempt, 422, 'idempotency_key_reused');
    expect(replayAttempt.text).not.toContain(first.payment.id);
    // The same token replays as before.
    const replay = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key }, token: tokenForA });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('request hardening', () => {
  it('an oversized body is 413 (authenticated), nothing appended', async () => {
    const res = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body: createBody({ description: 'x'.repeat(70 * 1024) }) }));
    expectProblem(res, 413, 'payload_too_large');
  });

  it('an unknown body field is 400 naming it, nothing appended', async () => {
    const res = await appendsNothing(h, () => h.request('POST', '/v1/payments', { body: createBody({ isAdmin: true }) }));
    expectProblem(res, 400, 'validation_failed');
    expect(res.problem.errors?.map((e) => e.path)).toEqual(['isAdmin']);
  });

  it('an unknown query parameter is 400 on queries and on commands (nothing appended)', async () => {
    for (const path of ['/v1/payments?customerId=cus_1&debug=1', `/v1/payments/${UNKNOWN_ID}?expand=customer`]) {
      const res = await h.request('GET', path);
      expectProblem(res, 400, 'validation_failed');
    }
    const create = await appendsNothing(h, () => h.request('POST', '/v1/payments?customerId=cus_other', { body: createBody() }));
    expectProblem(create, 400, 'validation_failed');
    expect(create.problem.errors?.map((e) => e.path)).toEqual(['customerId']);
    const { id } = await manualPayment(h, 'cus_query');
    const capture = await appendsNothing(h, () => h.request('POST', `/v1/payments/${id}/capture?amount=1`, { body: {} }));
    expectProblem(capture, 400, 'validation_failed');
  });

  it('security headers on every answer; no HSTS outside production', async () => {
    const answers = [await h.request('GET', '/healthz'), await h.request('GET', '/v1/payments', { token: null }), await h.request('GET', '/v1/payments')];
    for (const res of answers) {
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('HSTS in production', async () => {
    const res = await hardened.request('GET', '/healthz');
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('/healthz, /readyz and /openapi.json are open without a token; /metrics too unless configured', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) {
      const res = await h.request('GET', path, { token: null });
      expect(res.status, path).toBe(200);
    }
  });

  it('/metrics behind admin when configured: 401 without a token, 403 without admin, 200 with it', async () => {
    const none = await hardened.request('GET', '/metrics', { token: null });
    expectProblem(none, 401, 'unauthorized');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="ledger"');
    const read = await hardened.request('GET', '/metrics', { token: await hardened.token({ scopes: ['payments:read'] }) });
    expectProblem(read, 403, 'insufficient_scope');
    const admin = await hardened.request('GET', '/metrics');
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('ledger_http_request_duration_seconds');
    // Still open: health and the document.
    expect((await hardened.request('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await hardened.request('GET', '/openapi.json', { token: null })).status).toBe(200);
  });

  it('CORS: an allowed origin gets the headers (a 401 too, so a browser can read it); another origin gets none', async () => {
    const preflight = await hardened.request('OPTIONS', '/v1/payments', {
      token: null,
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const allowed = await hardened.request('GET', '/v1/payments', { headers: { origin: ALLOWED_ORIGIN } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Ledger-Position');
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    const unauthenticated = await hardened.request('GET', '/v1/payments', { token: null, headers: { origin: ALLOWED_ORIGIN } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);

    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'http://app.example.com', 'null']) {
      const res = await hardened.request('GET', '/v1/payments', { headers: { origin } });
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      const pre = await hardened.request('OPTIONS', '/v1/payments', { token: null, headers: { origin, 'access-control-request-method': 'POST' } });
      expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('CORS: with no origins configured (the default) nobody gets CORS headers', async () => {
    const res = await h.request('GET', '/v1/payments', { headers: { origin: ALLOWED_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await h.request('OPTIONS', '/v1/payments', { token: null, headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a wildcard or malformed CORS origin is refused at start', () => {
    for (const origin of ['*', 'null', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://app.example.com']) {
      expect(() => corsPolicy({ origins: [origin] }), origin).toThrow(/CORS origins/);
    }
    expect(corsPolicy({ origins: [] })).toBeUndefined();
    expect(corsPolicy({ origins: ['https://app.example.com', 'http://localhost:5173'] })).toBeTypeOf('function');
  });

  it('request logs carry the actor or the failure, never a token', async () => {
    const good = await h.token({ scopes: ['payments:read'], sub: 'log-reader' });
    const forged = await h.token({ scopes: ['admin'], secret: 'not-the-secret-the-service-trusts-0123456789' });
    await h.request('GET', '/v1/payments', { token: good, headers: { 'x-request-id': 'log-auth-ok' } });
    await h.request('GET', '/v1/payments', { token: forged, headers: { 'x-request-id': 'log-auth-bad' } });
    await h.request('GET', '/v1/payments', { headers: { authorization: `Basic ${Buffer.from('user:hunter2').toString('base64')}`, 'x-request-id': 'log-auth-basic' } });
    await new Promise((r) => setTimeout(r, 20));
    const line = (id: string) => h.logs.find((l) => l.msg === 'request' && l.requestId === id);
    expect(line('log-auth-ok')).toMatchObject({ status: 200, actor: 'jwt:log-reader' });
    expect(line('log-auth-bad')).toMatchObject({ status: 401, authFailure: 'invalid_credentials' });
    expect(line('log-auth-bad')).not.toHaveProperty('actor');
    expect(line('log-auth-basic')).toMatchObject({ status: 401, authFailure: 'malformed_credentials' });
    const everything = JSON.stringify(h.logs);
    for (const secret of [good, forged, h.adminToken, good.split('.')[2]!, forged.split('.')[2]!, h.adminToken.split('.')[2]!, 'hunter2', Buffer.from('user:hunter2').toString('base64')]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('rate limits', () => {
  it('per credential: RateLimit headers count down, then 429 with Retry-After; other credentials are unaffected', async () => {
    const token = await limited.token({ scopes: ['admin'], sub: 'busy-client' });
    const headers = { 'x-forwarded-for': '198.51.100.1' };
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await limited.request('GET', '/v1/payments', { token, headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      expect(res.headers.get('ratelimit-policy')).toBe('3;w=60');
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limitedRes = await appendsNothing(limited, () => limited.request('POST', '/v1/payments', { body: createBody(), token, headers }));
    expectProblem(limitedRes, 429, 'rate_limited');
    const retryAfter = Number(limitedRes.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limitedRes.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limitedRes.headers.get('ratelimit-reset'))).toBe(retryAfter);

    const other = await limited.request('GET', '/v1/payments', { token: await limited.token({ scopes: ['admin'], sub: 'calm-client' }), headers });
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('failed authentications per client address: 401, 401, then 429 even for a valid token (a guess is never evaluated)', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    const first = await limited.request('GET', '/v1/payments', { token: 'garbage.garbage.garbage', headers });
    expectProblem(first, 401, 'unauthorized');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    const second = await limited.request('GET', '/v1/payments', { token: null, headers });
    expectProblem(second, 401, 'unauthorized');
    expect(second.headers.get('ratelimit-remaining')).toBe('0');

    const valid = await limited.token({ scopes: ['admin'], sub: 'unlucky-neighbour' });
    const blocked = await appendsNothing(limited, () => limited.request('POST', '/v1/payments', { body: createBody(), token: valid, headers }));
    expectProblem(blocked, 429, 'rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(blocked.headers.get('www-authenticate')).toBeNull();

    // Another address is not affected, and valid requests never count against one.
    const elsewhere = { 'x-forwarded-for': '203.0.113.10' };
    for (let i = 0; i < 3; i++) {
      expect((await limited.request('GET', '/v1/payments', { token: await limited.token({ scopes: ['admin'], sub: `fresh-${i}` }), headers: elsewhere })).status).toBe(200);
    }
    expect((await limited.request('GET', '/v1/payments', { token: null, headers: elsewhere })).status).toBe(401);
  });

  it('an IPv6 client is limited by its /64', async () => {
    expect((await limited.request('GET', '/v1/payments', { token: null, headers: { 'x-forwarded-for': '2001:db8:1:2::1' } })).status).toBe(401);
    expect((await limited.request('GET', '/v1/payments', { token: null, headers: { 'x-forwarded-for': '2001:db8:1:2:aaaa::2' } })).status).toBe(401);
    expect((await limited.request('GET', '/v1/payments', { token: null, headers: { 'x-forwarded-for': '2001:0db8:0001:0002:ffff:1:2:3' } })).status).toBe(429);
    expect((await limited.request('GET', '/v1/payments', { token: null, headers: { 'x-forwarded-for': '2001:db8:1:3::1' } })).status).toBe(401);
  });

  it('open endpoints are not limited', async () => {
    for (let i = 0; i < 10; i++) expect((await limited.request('GET', '/healthz', { token: null, headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200);
  });

  it('in PostgreSQL, instances share the allowances', async () => {
    const token = await limitedPg.token({ scopes: ['admin'], sub: 'shared-across-instances' });
    // Another instance's limiter over the same database counts two requests of this credential.
    const otherInstance = await postgresRateLimiter(limitedPg.db.pool, TINY);
    await otherInstance.consume('credential', 'jwt:shared-across-instances');
    await otherInstance.consume('credential', 'jwt:shared-across-instances');
    const third = await limitedPg.request('GET', '/v1/payments', { token });
    expect(third.status).toBe(200);
    expect(third.headers.get('ratelimit-remaining')).toBe('0');
    const fourth = await appendsNothing(limitedPg, () => limitedPg.request('POST', '/v1/payments', { body: createBody(), token }));
    expectProblem(fourth, 429, 'rate_limited');
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await otherInstance.peek('credential', 'jwt:shared-across-instances')).allowed).toBe(false);
    const rows = await limitedPg.db.pool.query<{ key: string; points: number }>('SELECT key, points FROM http_rate_limits');
    expect(rows.rows).toEqual(expect.arrayContaining([{ key: 'cred:jwt:shared-across-instances', points: 4 }]));
    expect(pgLimiter).toBeDefined();
  });
});

describe('the OpenAPI document describes the security', () => {
  it('has the bearer scheme, per-operation scopes and 401/403/429 responses; ops endpoints are open', async () => {
    const doc = (await h.request('GET', '/openapi.json', { token: null })).json as {
      security: unknown;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: Record<string, string[]>[]; description?: string; responses: Record<string, unknown> }>>;
    };
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const expected: [string, string, string][] = [
      ['/v1/payments', 'post', 'payments:write'],
      ['/v1/payments', 'get', 'payments:read'],
      ['/v1/payments/{id}', 'get', 'payments:read'],
      ['/v1/payments/{id}/capture', 'post', 'payments:write'],
      ['/v1/payments/{id}/cancel', 'post', 'payments:write'],
      ['/v1/admin/projections', 'get', 'admin'],
      ['/v1/refunds', 'get', 'payments:read'],
      ['/v1/refunds/{id}', 'get', 'payments:read'],
      ['/v1/payments/{id}/refunds', 'get', 'payments:read'],
    ];
    for (const [path, method, scope] of expected) {
      const op = doc.paths[path]![method]!;
      expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [scope] }]);
      expect(op.description).toContain(`\`${scope}\``);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/metrics']) expect(doc.paths[path]!.get!.security, path).toEqual([]);
    const hardenedDoc = (await hardened.request('GET', '/openapi.json', { token: null })).json as typeof doc;
    expect(hardenedDoc.paths['/metrics']!.get!.security).toEqual([{ bearerAuth: ['admin'] }]);
  });
});
