import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingApi } from './support/billing-api.js';
import { startBillingApi, subscriptionBody } from './support/billing-api.js';

/*
 * Saved cards (issue 10): `providerCustomerId`, the processor's customer (Stripe `cus_…`) a
 * payment method is saved to, on POST /v1/payments and POST/PATCH /v1/subscriptions:
 * validated, and shown (or null) in answers and reads, the read models included.
 */

let api: BillingApi;
beforeAll(async () => {
  api = await startBillingApi('http_provider_customer');
});
afterAll(async () => {
  await api?.close();
});

const BAD = ['cus_', 'cust_1', 'cus_a-b', 'cus_a b', 'CUS_1', `cus_${'a'.repeat(300)}`, 42, null];
const payment = (overrides: Record<string, unknown> = {}) => ({ customerId: 'cus_pc', amount: 500, currency: 'USD', paymentMethod: 'pm_card_visa', ...overrides });

const expectInvalid = (res: { status: number; body: Record<string, unknown> }, what: string) => {
  expect(res.status, what).toBe(400);
  expect(res.body.code, what).toBe('validation_failed');
  expect((res.body.errors as { path: string }[]).map((e) => e.path), what).toContain('providerCustomerId');
};

describe('providerCustomerId on payments', () => {
  it('a malformed one is 400 naming the field, and nothing is created', async () => {
    for (const bad of BAD) expectInvalid(await api.request('POST', '/v1/payments', { body: payment({ customerId: 'cus_pc_bad', providerCustomerId: bad }) }), JSON.stringify(bad));
    expect((await api.request('GET', '/v1/payments?customerId=cus_pc_bad')).body.data).toEqual([]);
  });

  it('is shown by the answer and by GET (the read model); without one, null', async () => {
    const created = await api.request('POST', '/v1/payments', { body: payment({ providerCustomerId: 'cus_Pay1' }) });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ status: 'succeeded', paymentMethod: 'pm_card_visa', providerCustomerId: 'cus_Pay1' });
    const read = await api.request('GET', `/v1/payments/${String(created.body.id)}?minPosition=${created.headers.get('ledger-position') ?? ''}`);
    expect(read.text).toBe(created.text);
    const plain = await api.request('POST', '/v1/payments', { body: payment() });
    expect(plain.body).toMatchObject({ providerCustomerId: null });
    const plainRead = await api.request('GET', `/v1/payments/${String(plain.body.id)}?minPosition=${plain.headers.get('ledger-position') ?? ''}`);
    expect(plainRead.body).toMatchObject({ providerCustomerId: null });
  });
});

describe('providerCustomerId on subscriptions', () => {
  it('POST and PATCH refuse a malformed one with 400 naming the field', async () => {
    for (const bad of BAD) {
      expectInvalid(await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_sc_bad', providerCustomerId: bad }) }), JSON.stringify(bad));
    }
    expect((await api.request('GET', '/v1/subscriptions?customerId=cus_sc_bad')).body.data).toEqual([]);
    const created = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_sc' }) });
    for (const bad of BAD.filter((b) => b !== null)) {
      expectInvalid(await api.request('PATCH', `/v1/subscriptions/${String(created.body.id)}`, { body: { providerCustomerId: bad } }), JSON.stringify(bad));
    }
  });

  it('is set at creation, changed and removed (null) by PATCH, and shown by GET (the read model)', async () => {
    const created = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_sc2', providerCustomerId: 'cus_Sub1' }) });
    expect(created.status, created.text).toBe(201);
    expect(created.body.providerCustomerId).toBe('cus_Sub1');
    const id = String(created.body.id);
    const active = await api.until(`/v1/subscriptions/${id}`, (s) => s.status === 'active');
    expect(active.providerCustomerId).toBe('cus_Sub1');
    const changed = await api.request('PATCH', `/v1/subscriptions/${id}`, { body: { providerCustomerId: 'cus_Sub2' } });
    expect(changed.body).toMatchObject({ providerCustomerId: 'cus_Sub2' });
    const read = await api.request('GET', `/v1/subscriptions/${id}?minPosition=${changed.headers.get('ledger-position') ?? ''}`);
    expect(read.text).toBe(changed.text);
    const removed = await api.request('PATCH', `/v1/subscriptions/${id}`, { body: { providerCustomerId: null } });
    expect(removed.body).toMatchObject({ providerCustomerId: null });
    const plain = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_sc3' }) });
    expect(plain.body.providerCustomerId).toBeNull();
  });
});
