import { describe, expect, it } from 'vitest';
import { position } from '../../src/application/ports/position.js';
import { ackCode, errorAck, parseSubscribe, parseUnsubscribe, splitArgs, type Ack } from '../../src/infrastructure/realtime/protocol.js';

describe('parseSubscribe', () => {
  it('accepts topics and an optional since, deduplicating topics in order', () => {
    expect(parseSubscribe({ topics: ['payment:pay_1', 'ledger', 'payment:pay_1'] })).toEqual({
      ok: true,
      value: { topics: ['payment:pay_1', 'ledger'] },
    });
    expect(parseSubscribe({ topics: ['customer:cus-42.x_Y'], since: '12.7' })).toEqual({
      ok: true,
      value: { topics: ['customer:cus-42.x_Y'], since: position(12n, 7n) },
    });
  });

  it.each([
    ['not an object', 'payment:pay_1'],
    ['null', null],
    ['no topics', {}],
    ['topics not an array', { topics: 'ledger' }],
    ['empty topics', { topics: [] }],
    ['a topic that is not a string', { topics: [42] }],
    ['upper-case topic kind', { topics: ['Payment:pay_1'] }],
    ['empty id', { topics: ['payment:'] }],
    ['id with a space', { topics: ['payment:pay 1'] }],
    ['id longer than 64', { topics: [`payment:${'a'.repeat(65)}`] }],
    ['two colons', { topics: ['payment:a:b'] }],
    ['topic longer than 200', { topics: [`${'a'.repeat(201)}`] }],
    ['more than 50 topics', { topics: Array.from({ length: 51 }, (_, i) => `payment:p${i}`) }],
    ['since not a position', { topics: ['ledger'], since: 'yesterday' }],
    ['since as a number', { topics: ['ledger'], since: 12 }],
    ['since out of range', { topics: ['ledger'], since: '99999999999999999999.0' }],
    ['since null', { topics: ['ledger'], since: null }],
    ['an unknown key', { topics: ['ledger'], from: '1.1' }],
  ])('refuses %s', (_label, payload) => {
    const result = parseSubscribe(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/\S/);
  });

  it('accepts exactly 50 topics and the largest position', () => {
    const topics = Array.from({ length: 50 }, (_, i) => `payment:p${i}`);
    expect(parseSubscribe({ topics, since: '18446744073709551615.18446744073709551615' }).ok).toBe(true);
  });
});

describe('parseUnsubscribe', () => {
  it('accepts topics and refuses anything else', () => {
    expect(parseUnsubscribe({ topics: ['ledger'] })).toEqual({ ok: true, value: { topics: ['ledger'] } });
    expect(parseUnsubscribe({ topics: ['ledger'], since: '1.1' }).ok).toBe(false);
    expect(parseUnsubscribe(undefined).ok).toBe(false);
  });
});

describe('splitArgs', () => {
  it('finds the ack as the last function argument', () => {
    const seen: Ack[] = [];
    const withBoth = splitArgs([{ topics: [] }, (a: Ack) => seen.push(a)]);
    expect(withBoth.payload).toEqual({ topics: [] });
    withBoth.ack({ ok: true });
    const ackOnly = splitArgs([(a: Ack) => seen.push(a)]);
    expect(ackOnly.payload).toBeUndefined();
    ackOnly.ack(errorAck('invalid_request', 'x'));
    expect(seen).toEqual([{ ok: true }, { ok: false, error: 'invalid_request: x' }]);
    const none = splitArgs([{ topics: ['ledger'] }]);
    expect(none.payload).toEqual({ topics: ['ledger'] });
    expect(() => none.ack({ ok: true })).not.toThrow();
  });
});

describe('ackCode', () => {
  it('is the code an error ack starts with', () => {
    expect(ackCode({ ok: true })).toBeUndefined();
    expect(ackCode(errorAck('forbidden', 'not allowed to follow ledger'))).toBe('forbidden');
    expect(ackCode(errorAck('unauthorized', 'token expired: really'))).toBe('unauthorized');
  });
});
