import { describe, expect, it } from 'vitest';
import { etagFor, parseIdempotencyKey, parseIfMatch } from '../../src/infrastructure/http/preconditions.js';
import { requestIdFrom } from '../../src/infrastructure/http/request-id.js';

describe('parseIfMatch', () => {
  it('absent and * pin nothing', () => {
    expect(parseIfMatch(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseIfMatch('*')).toEqual({ ok: true, value: undefined });
  });

  it('reads one strong ETag as a revision', () => {
    expect(parseIfMatch('"0"')).toEqual({ ok: true, value: 0n });
    expect(parseIfMatch(' "42" ')).toEqual({ ok: true, value: 42n });
    expect(parseIfMatch(etagFor(9_007_199_254_740_993n))).toEqual({ ok: true, value: 9_007_199_254_740_993n });
  });

  it.each(['0', '"-1"', '"1.5"', '"abc"', '""', 'W/"1"', '"1", "2"', '"99999999999999999999"', '"9223372036854775808"'])('rejects %s', (value) => {
    expect(parseIfMatch(value).ok).toBe(false);
  });

  it('etagFor quotes the revision', () => {
    expect(etagFor(3n)).toBe('"3"');
    expect(etagFor('3')).toBe('"3"');
  });
});

describe('parseIdempotencyKey', () => {
  it('accepts 1..255 printable ASCII characters', () => {
    expect(parseIdempotencyKey(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseIdempotencyKey('a')).toEqual({ ok: true, value: 'a' });
    expect(parseIdempotencyKey('k'.repeat(255)).ok).toBe(true);
    expect(parseIdempotencyKey('order 42 / retry:1').ok).toBe(true);
  });

  it.each(['', 'k'.repeat(256), 'tab\there', 'ünïcode', 'nul\u0000'])('rejects %j', (value) => {
    expect(parseIdempotencyKey(value).ok).toBe(false);
  });
});

describe('requestIdFrom', () => {
  it('keeps a sane id and replaces anything else', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('a'.repeat(129))).not.toBe('a'.repeat(129));
    expect(requestIdFrom('bad id\n')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(['a', 'b'])).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
