import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint } from '../../src/infrastructure/http/request-fingerprint.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson(JSON.parse('{ "b": 1, "a": { "d": [ 3, {"z": 1, "y": 2} ], "c": null } }'))).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('keeps array order and distinguishes types', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });

  it('treats numbers as JSON.parse normalised them', () => {
    expect(canonicalJson(JSON.parse('{"a": 1.0}'))).toBe(canonicalJson(JSON.parse('{"a": 1}')));
    expect(canonicalJson(JSON.parse('{"a": 1e2}'))).toBe('{"a":100}');
  });

  it('escapes keys and strings as JSON, including a __proto__ key', () => {
    expect(canonicalJson(JSON.parse('{"__proto__": {"x": 1}, "q\\"": "\\u0000"}'))).toBe('{"__proto__":{"x":1},"q\\"":"\\u0000"}');
  });
});

describe('requestFingerprint', () => {
  const base = { method: 'POST', path: '/v1/payments', ifMatch: undefined, body: { amount: 1, currency: 'USD' } };

  it('is the same for the same request in any key order', () => {
    expect(requestFingerprint(base)).toBe(requestFingerprint({ ...base, body: { currency: 'USD', amount: 1 } }));
    expect(requestFingerprint(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs by method, path, If-Match and body', () => {
    const h = requestFingerprint(base);
    expect(requestFingerprint({ ...base, method: 'PUT' })).not.toBe(h);
    expect(requestFingerprint({ ...base, path: '/v1/payments/x/capture' })).not.toBe(h);
    expect(requestFingerprint({ ...base, ifMatch: '"0"' })).not.toBe(h);
    expect(requestFingerprint({ ...base, body: { amount: 2, currency: 'USD' } })).not.toBe(h);
  });

  it('cannot be confused by moving text between fields', () => {
    expect(requestFingerprint({ ...base, path: '/a\n', ifMatch: undefined })).not.toBe(requestFingerprint({ ...base, path: '/a', ifMatch: '\n' }));
  });
});
