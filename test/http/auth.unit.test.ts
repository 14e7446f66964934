import { describe, expect, it } from 'vitest';
import { bearerChallenge, clientKeyOf, parseAuthorization, unauthorizedProblem } from '../../src/infrastructure/http/auth.js';
import { bodyShapeProblem, MAX_BODY_DEPTH } from '../../src/infrastructure/http/json-body.js';
import { inMemoryRateLimiter } from '../../src/infrastructure/http/rate-limit.js';
import { requestFingerprint } from '../../src/infrastructure/http/request-fingerprint.js';

describe('parseAuthorization', () => {
  it('takes "Bearer <b64token>", any case of the scheme', () => {
    expect(parseAuthorization(undefined)).toEqual({ kind: 'absent' });
    expect(parseAuthorization('  ')).toEqual({ kind: 'absent' });
    expect(parseAuthorization('Bearer abc.DEF-ghi_~+/==')).toEqual({ kind: 'bearer', token: 'abc.DEF-ghi_~+/==' });
    expect(parseAuthorization('bearer   lk_0123_abc')).toEqual({ kind: 'bearer', token: 'lk_0123_abc' });
  });

  it('anything else is malformed', () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearer a=b', 'Bearer\tabc', 'Bearer tok"en', 'Token abc', `Bearer ${'a'.repeat(4097)}`]) {
      expect(parseAuthorization(header).kind, header).toBe('malformed');
    }
  });
});

describe('clientKeyOf', () => {
  it('IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(clientKeyOf('203.0.113.9')).toBe('203.0.113.9');
    expect(clientKeyOf('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientKeyOf('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:0DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKeyOf(undefined)).toBe('unknown');
  });
});

describe('401 and 403 challenges', () => {
  it('follow RFC 6750: no error code without credentials, fixed descriptions otherwise', () => {
    expect(bearerChallenge()).toBe('Bearer realm="ledger"');
    expect(unauthorizedProblem({ code: 'missing_credentials' }).spec.headers).toEqual({ 'www-authenticate': 'Bearer realm="ledger"' });
    const invalid = unauthorizedProblem({ code: 'invalid_credentials', message: 'kid ak_123 unknown; secret mismatch' });
    expect(invalid.spec.headers?.['www-authenticate']).toBe('Bearer realm="ledger", error="invalid_token", error_description="The token is not valid"');
    expect(JSON.stringify(invalid.spec)).not.toContain('ak_123');
    expect(unauthorizedProblem({ code: 'revoked_credentials' }).spec).toMatchObject({ code: 'unauthorized', extensions: { reason: 'revoked_credentials' } });
  });
});

describe('bodyShapeProblem', () => {
  it('refuses bodies nested deeper than the limit, without recursion', () => {
    const deep = JSON.parse(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`) as unknown;
    expect(bodyShapeProblem(deep)?.spec).toMatchObject({ code: 'validation_failed' });
    let ok: unknown = 'leaf';
    for (let i = 0; i < MAX_BODY_DEPTH - 1; i++) ok = [ok];
    expect(bodyShapeProblem(ok)).toBeUndefined();
    expect(bodyShapeProblem(JSON.parse('{"m":{"__proto__":1}}'))?.spec.errors).toEqual([{ path: 'm.__proto__', message: 'is not an allowed field name' }]);
  });
});

describe('requestFingerprint and customer scope', () => {
  it('binds a customer-scoped request to its customer, and leaves unscoped fingerprints as they were', () => {
    const base = { method: 'POST', path: '/v1/payments', ifMatch: undefined, body: { amount: 1 } };
    expect(requestFingerprint({ ...base, customerScope: null })).toBe(requestFingerprint(base));
    expect(requestFingerprint({ ...base, customerScope: 'cus_a' })).not.toBe(requestFingerprint(base));
    expect(requestFingerprint({ ...base, customerScope: 'cus_a' })).not.toBe(requestFingerprint({ ...base, customerScope: 'cus_b' }));
  });
});

describe('inMemoryRateLimiter', () => {
  it('counts per bucket and key; peek does not count', async () => {
    const limiter = inMemoryRateLimiter({ credential: { points: 2, durationSeconds: 60 }, unauthenticated: { points: 1, durationSeconds: 10 } });
    expect(await limiter.peek('credential', 'a')).toMatchObject({ allowed: true, remaining: 2, limit: 2 });
    expect(await limiter.consume('credential', 'a')).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.consume('credential', 'a')).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.peek('credential', 'a')).toMatchObject({ allowed: false, remaining: 0 });
    const over = await limiter.consume('credential', 'a');
    expect(over).toMatchObject({ allowed: false, remaining: 0, windowSeconds: 60 });
    expect(over.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(await limiter.consume('credential', 'b')).toMatchObject({ allowed: true });
    expect(await limiter.consume('unauthenticated', 'a')).toMatchObject({ allowed: true, remaining: 0, windowSeconds: 10 });
    // Keys longer than the store allows are hashed, not refused.
    expect(await limiter.consume('credential', 'x'.repeat(1000))).toMatchObject({ allowed: true });
  });
});
