import { describe, expect, it } from 'vitest';
import type { Principal, Scope } from '../../src/application/auth/principal.js';
import { mayFollow } from '../../src/infrastructure/realtime/topic-policy.js';

const principal = (scopes: Scope[], customerId: string | null = null): Principal => ({
  actor: 'jwt:test',
  kind: 'jwt',
  scopes: new Set(scopes),
  customerId,
  expiresAt: null,
});

const owners: Record<string, string> = { pay_a1: 'cus_a', pay_b1: 'cus_b' };
const refundOwners: Record<string, string> = { re_a1: 'cus_a', re_b1: 'cus_b' };
const lookups: string[] = [];
const ownerOf = (id: string): Promise<string | undefined> => {
  lookups.push(id);
  return Promise.resolve(owners[id]);
};
const refundOwnerOf = (id: string): Promise<string | undefined> => {
  lookups.push(`refund ${id}`);
  return Promise.resolve(refundOwners[id]);
};
const billingOwners: Record<string, string> = { sub_a1: 'cus_a', sub_b1: 'cus_b', in_a1: 'cus_a', in_b1: 'cus_b' };
const billingOwnerOf = (kind: string) => (id: string): Promise<string | undefined> => {
  lookups.push(`${kind} ${id}`);
  // Each lookup answers only its own kind of id, as each reads its own table.
  return Promise.resolve(id.startsWith(kind === 'subscription' ? 'sub_' : 'in_') ? billingOwners[id] : undefined);
};
const all = { payment: ownerOf, refund: refundOwnerOf, subscription: billingOwnerOf('subscription'), invoice: billingOwnerOf('invoice') };

describe('mayFollow', () => {
  it.each<[string, Scope[], string | null, string, boolean]>([
    ['reader: payment', ['payments:read'], null, 'payment:pay_b1', true],
    ['reader: unknown payment', ['payments:read'], null, 'payment:pay_zz', true],
    ['reader: customer', ['payments:read'], null, 'customer:cus_b', true],
    ['reader: ledger', ['payments:read'], null, 'ledger', false],
    ['writer only: payment', ['payments:write'], null, 'payment:pay_a1', false],
    ['writer only: customer', ['payments:write', 'refunds:write'], null, 'customer:cus_a', false],
    ['ledger reader: ledger', ['ledger:read'], null, 'ledger', true],
    ['ledger reader: payment', ['ledger:read'], null, 'payment:pay_a1', false],
    ['ledger with an id', ['ledger:read'], null, 'ledger:x', false],
    ['admin: everything known', ['admin'], null, 'ledger', true],
    ['admin: payment', ['admin'], null, 'payment:pay_a1', true],
    ['no scopes', [], null, 'customer:cus_a', false],
    ['unknown kind', ['admin'], null, 'webhook:wh_1', false],
    ['unknown kind without id', ['admin'], null, 'payments', false],
    ['customer a: own customer', ['payments:read'], 'cus_a', 'customer:cus_a', true],
    ['customer a: other customer', ['payments:read'], 'cus_a', 'customer:cus_b', false],
    ['customer a: own payment', ['payments:read'], 'cus_a', 'payment:pay_a1', true],
    ["customer a: b's payment", ['payments:read'], 'cus_a', 'payment:pay_b1', false],
    ['customer a: unknown payment', ['payments:read'], 'cus_a', 'payment:pay_zz', false],
    ['customer a: ledger, even with ledger:read', ['payments:read', 'ledger:read'], 'cus_a', 'ledger', false],
    ['customer a without payments:read: own customer', ['payments:write'], 'cus_a', 'customer:cus_a', false],
    ['customer-scoped admin: other customer', ['admin'], 'cus_a', 'customer:cus_b', false],
    ['customer-scoped admin: own payment', ['admin'], 'cus_a', 'payment:pay_a1', true],
    ['reader: refund', ['payments:read'], null, 'refund:re_b1', true],
    ['reader: unknown refund', ['payments:read'], null, 'refund:re_zz', true],
    ['writer only: refund', ['payments:write', 'refunds:write'], null, 'refund:re_a1', false],
    ['ledger reader: refund', ['ledger:read'], null, 'refund:re_a1', false],
    ['customer a: own refund', ['payments:read'], 'cus_a', 'refund:re_a1', true],
    ["customer a: b's refund", ['payments:read'], 'cus_a', 'refund:re_b1', false],
    ['customer a: unknown refund', ['payments:read'], 'cus_a', 'refund:re_zz', false],
    ['customer a: a payment id as a refund', ['payments:read'], 'cus_a', 'refund:pay_a1', false],
    ['customer a: a refund id as a payment', ['payments:read'], 'cus_a', 'payment:re_a1', false],
    ['subscription reader: subscription', ['subscriptions:read'], null, 'subscription:sub_b1', true],
    ['subscription reader: unknown subscription', ['subscriptions:read'], null, 'subscription:sub_zz', true],
    ['subscription reader: invoice', ['subscriptions:read'], null, 'invoice:in_b1', true],
    ['subscription reader: payment', ['subscriptions:read'], null, 'payment:pay_a1', false],
    ['payments reader: subscription', ['payments:read'], null, 'subscription:sub_a1', false],
    ['payments reader: invoice', ['payments:read'], null, 'invoice:in_a1', false],
    ['subscription writer only: subscription', ['subscriptions:write'], null, 'subscription:sub_a1', false],
    ['admin: subscription and invoice', ['admin'], null, 'invoice:in_zz', true],
    ['customer a: own subscription', ['subscriptions:read'], 'cus_a', 'subscription:sub_a1', true],
    ["customer a: b's subscription", ['subscriptions:read'], 'cus_a', 'subscription:sub_b1', false],
    ['customer a: unknown subscription', ['subscriptions:read'], 'cus_a', 'subscription:sub_zz', false],
    ['customer a: own invoice', ['subscriptions:read'], 'cus_a', 'invoice:in_a1', true],
    ["customer a: b's invoice", ['subscriptions:read'], 'cus_a', 'invoice:in_b1', false],
    ['customer a: unknown invoice', ['subscriptions:read'], 'cus_a', 'invoice:in_zz', false],
    ['customer a: an invoice id as a subscription', ['subscriptions:read'], 'cus_a', 'subscription:in_a1', false],
    ['customer a with payments:read only: own subscription', ['payments:read'], 'cus_a', 'subscription:sub_a1', false],
    ['customer-scoped admin: own invoice', ['admin'], 'cus_a', 'invoice:in_a1', true],
    ["customer-scoped admin: b's subscription", ['admin'], 'cus_a', 'subscription:sub_b1', false],
    ['subscription with an empty id', ['admin'], null, 'subscription:', false],
  ])('%s', async (_label, scopes, customerId, topic, expected) => {
    expect(await mayFollow(principal(scopes, customerId), topic, all)).toBe(expected);
  });

  it('looks refunds up in the refunds lookup, and without one refuses every refund to a customer-scoped principal', async () => {
    lookups.length = 0;
    expect(await mayFollow(principal(['payments:read'], 'cus_a'), 'refund:re_a1', all)).toBe(true);
    expect(lookups).toEqual(['refund re_a1']);
    expect(await mayFollow(principal(['payments:read'], 'cus_a'), 'refund:re_a1', { payment: ownerOf })).toBe(false);
    expect(await mayFollow(principal(['payments:read']), 'refund:re_a1', { payment: ownerOf })).toBe(true);
  });

  it('looks payments up only for customer-scoped principals with payments:read', async () => {
    lookups.length = 0;
    await mayFollow(principal(['payments:read']), 'payment:pay_a1', all);
    await mayFollow(principal(['payments:write'], 'cus_a'), 'payment:pay_a1', all);
    expect(lookups).toEqual([]);
    await mayFollow(principal(['payments:read'], 'cus_a'), 'payment:pay_a1', all);
    expect(lookups).toEqual(['pay_a1']);
  });

  it('passes a failed lookup on', async () => {
    const failing = (): Promise<string | undefined> => Promise.reject(new Error('down'));
    await expect(mayFollow(principal(['payments:read'], 'cus_a'), 'payment:pay_a1', { payment: failing })).rejects.toThrow('down');
    await expect(mayFollow(principal(['subscriptions:read'], 'cus_a'), 'invoice:in_a1', { ...all, invoice: failing })).rejects.toThrow('down');
  });

  it('looks subscriptions and invoices up in their own lookups, only for customer-scoped principals with subscriptions:read; without one, refuses', async () => {
    lookups.length = 0;
    await mayFollow(principal(['subscriptions:read']), 'subscription:sub_a1', all);
    await mayFollow(principal(['payments:read'], 'cus_a'), 'invoice:in_a1', all);
    expect(lookups).toEqual([]);
    await mayFollow(principal(['subscriptions:read'], 'cus_a'), 'subscription:sub_a1', all);
    await mayFollow(principal(['subscriptions:read'], 'cus_a'), 'invoice:in_a1', all);
    expect(lookups).toEqual(['subscription sub_a1', 'invoice in_a1']);
    expect(await mayFollow(principal(['subscriptions:read'], 'cus_a'), 'subscription:sub_a1', { payment: ownerOf, refund: refundOwnerOf })).toBe(false);
    expect(await mayFollow(principal(['subscriptions:read'], 'cus_a'), 'invoice:in_a1', { payment: ownerOf, refund: refundOwnerOf })).toBe(false);
  });
});
