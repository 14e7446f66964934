import { describe, expect, it } from 'vitest';
import { position } from '../../src/application/ports/position.js';
import { ackCode, errorAck, parseSubscribe, parseUnsubscribe, splitArgs, type Ack } from '../../src/infrastructure/realtime/protocol.js';

describe('parseSubscribe', () => {
  it('accepts topics and an optional since, deduplicating topics in order', () => {
    expect(parseSubscribe({ topics: ['refund:re_1'] })).toEqual({ ok: true, value: { topics: ['refund:re_1'] } });
    expect(parseSubscribe({ topics: ['subscription:sub_1', 'invoice:in_1'] })).toEqual({ ok: true, value: { topics: ['subscription:sub_1', 'invoice:in_1'] } });
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
    ['more than 50 topics', { topics: Array.from({ length: 51 }, (_, i) => `payment:p${i}`) }],
    ['since not a position', { topics: ['ledger'], since: 'yesterday' }],
    ['since as a number', { topics: ['ledger'], since: 12 }],
    ['since out of range', { topics: ['ledger'], since: '99999999999999999999.0' }],
    ['since null', { topics: ['ledger'], since: null }],
    ['an unknown key', { topics: ['ledger'], from: '1.1' }],
  ])('refuses %s as invalid_request', (_label, payload) => {
    const result = parseSubscribe(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_request');
      expect(result.error.detail).toMatch(/\S/);
    }
  });

  it.each([
    ['upper-case topic kind', 'Payment:pay_1', /unknown kind/],
    ['an unknown kind', 'foo', /unknown kind/],
    ['an unknown kind with an id', 'webhook:wh_1', /unknown kind/],
    ['subscriptions, plural', 'subscriptions:sub_1', /unknown kind/],
    ['an invoice without an id', 'invoice', /needs an id/],
    ['a subscription with an empty id', 'subscription:', /needs an id/],
    ['empty id', 'payment:', /needs an id/],
    ['a refund without an id', 'refund', /needs an id/],
    ['refunds, plural', 'refunds:re_1', /unknown kind/],
    ['no id', 'customer', /needs an id/],
    ['an id on a topic that takes none', 'ledger:x', /takes no id/],
    ['id with a space', 'payment:pay 1', /the id must be/],
    ['id with a bad character', 'customer:cus/1', /the id must be/],
    ['id longer than 64', `payment:${'a'.repeat(65)}`, /the id must be/],
    ['two colons', 'payment:a:b', /the id must be/],
    ['topic longer than 200', `${'a'.repeat(201)}`, /longer than 200/],
  ])('refuses %s as invalid_topic, quoting the topic', (_label, topic, why) => {
    const result = parseSubscribe({ topics: ['ledger', topic] });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_topic');
      expect(result.error.detail).toMatch(why);
      expect(result.error.detail.startsWith(JSON.stringify(topic.slice(0, 80)).slice(0, -1))).toBe(true);
    }
    const unsubscribed = parseUnsubscribe({ topics: [topic] });
    expect(unsubscribed.ok ? undefined : unsubscribed.error.code).toBe('invalid_topic');
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
