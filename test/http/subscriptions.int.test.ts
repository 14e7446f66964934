import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePosition } from '../../src/application/ports/position.js';
import type { BillingApi, Loose } from './support/billing-api.js';
import { startBillingApi, subscriptionBody } from './support/billing-api.js';
import { mintToken } from './support/auth.js';

/*
 * /v1/subscriptions and /v1/invoices through the whole service: the billing process
 * manager issues and charges invoices, the billing projection answers the queries.
 */

let api: BillingApi;
beforeAll(async () => {
  api = await startBillingApi('http_subscriptions');
});
afterAll(async () => {
  await api?.close();
});

const create = async (overrides: Record<string, unknown> = {}, options: { token?: string; headers?: Record<string, string> } = {}) => {
  const res = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody(overrides), ...options });
  expect(res.status, res.text).toBe(201);
  return res;
};
const active = async (overrides: Record<string, unknown> = {}) => {
  const res = await create(overrides);
  return api.until(`/v1/subscriptions/${String(res.body.id)}`, (s) => s.status === 'active');
};
const ids = (page: Loose): string[] => (page.data as { id: string }[]).map((r) => r.id);
const invoicesOf = async (id: string) => (await api.request('GET', `/v1/subscriptions/${id}/invoices`)).body.data as Loose[];

describe('POST /v1/subscriptions', () => {
  it('answers 201 incomplete with ETag, Location and Ledger-Position; the first invoice is then issued and paid in the background, and the subscription becomes active', async () => {
    const res = await create({ metadata: { plan: 'pro' } });
    const s = res.body;
    expect(Object.keys(s)).toEqual([
      'id', 'object', 'status', 'customerId', 'price', 'paymentMethod', 'providerCustomerId', 'currentPeriodStart', 'currentPeriodEnd', 'billingCycleAnchor', 'trialStart', 'trialEnd',
      'cancelAtPeriodEnd', 'canceledAt', 'pausedAt', 'testClock', 'latestInvoice', 'metadata', 'revision', 'createdAt',
    ]);
    expect(s).toMatchObject({
      object: 'subscription',
      status: 'incomplete',
      customerId: 'cus_sub',
      price: { amount: 2_000, currency: 'USD', interval: 'month', intervalCount: 1 },
      paymentMethod: 'pm_card_visa',
      trialStart: null,
      trialEnd: null,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      testClock: null,
      latestInvoice: null,
      metadata: { plan: 'pro' },
      revision: '0',
    });
    expect(s.id).toMatch(/^sub_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(s.currentPeriodStart).toBe(s.createdAt);
    expect(res.headers.get('etag')).toBe('"0"');
    expect(res.headers.get('location')).toBe(`/v1/subscriptions/${String(s.id)}`);
    const position = res.headers.get('ledger-position') ?? '';
    expect(parsePosition(position)).toBeDefined();

    // Read your write: the subscription is there at once with minPosition (incomplete, or already active).
    const read = await api.request('GET', `/v1/subscriptions/${String(s.id)}?minPosition=${position}`);
    expect(read.status).toBe(200);
    expect(['incomplete', 'active']).toContain(read.body.status);

    const done = await api.until(`/v1/subscriptions/${String(s.id)}`, (b) => b.status === 'active');
    expect(done.latestInvoice).toMatch(/^in_/);
    const [invoice, ...more] = await invoicesOf(String(s.id));
    expect(more).toEqual([]);
    expect(invoice).toMatchObject({
      id: done.latestInvoice,
      object: 'invoice',
      status: 'paid',
      subscriptionId: s.id,
      customerId: 'cus_sub',
      currency: 'USD',
      billingReason: 'subscription_create',
      total: 2_000,
      amountPaid: 2_000,
      amountDue: 0,
      attemptCount: 1,
      nextPaymentAttempt: null,
      testClock: null,
      periodStart: s.currentPeriodStart,
      periodEnd: s.currentPeriodEnd,
    });
    expect(invoice!.lines).toEqual([expect.objectContaining({ kind: 'subscription', amount: 2_000 })]);
    expect(invoice!.payments).toHaveLength(1);
    const one = await api.request('GET', `/v1/invoices/${String(invoice!.id)}`);
    expect(one.text).toBe(JSON.stringify(invoice));
    expect(one.headers.get('etag')).toBe(`"${String(invoice!.revision)}"`);
    // The charge went through the payments path.
    const payment = await api.request('GET', `/v1/payments/${String(invoice!.payments[0])}`);
    expect(payment.body).toMatchObject({ status: 'succeeded', amount: 2_000, customerId: 'cus_sub', currency: 'USD' });
  });

  it('a trial: trialing, billing anchored at the trial end, nothing invoiced yet', async () => {
    const res = await create({ trialDays: 14 });
    const s = res.body;
    expect(s).toMatchObject({ status: 'trialing', trialStart: s.createdAt, latestInvoice: null });
    expect(Date.parse(String(s.trialEnd)) - Date.parse(String(s.createdAt))).toBe(14 * 86_400_000);
    expect(s.billingCycleAnchor).toBe(s.trialEnd);
    expect(s.currentPeriodEnd).toBe(s.trialEnd);
    await api.request('GET', `/v1/subscriptions/${String(s.id)}?minPosition=${res.headers.get('ledger-position')}`);
    expect(await invoicesOf(String(s.id))).toEqual([]);
  });

  it('validation: 400 problem+json naming the field, nothing created', async () => {
    const before = (await api.request('GET', '/v1/subscriptions?customerId=cus_invalid')).body.data.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ extra: 1 }, ''],
      [{ price: { amount: 2_000, currency: 'usd', interval: 'month', intervalCount: 13 } }, 'price.intervalCount'],
      [{ price: { amount: 2_000, currency: 'usd', interval: 'week', intervalCount: 53 } }, 'price.intervalCount'],
      [{ price: { amount: 2_000, currency: 'usd', interval: 'year', intervalCount: 2 } }, 'price.intervalCount'],
      [{ price: { amount: 2_000, currency: 'usd', interval: 'day', intervalCount: 0 } }, 'price.intervalCount'],
      [{ price: { amount: 2_000, currency: 'usd', interval: 'fortnight' } }, 'price.interval'],
      [{ price: { amount: 0, currency: 'usd', interval: 'month' } }, 'price.amount'],
      [{ price: { amount: 1_000_000_000_000, currency: 'usd', interval: 'month' } }, 'price.amount'],
      [{ price: { amount: 1.5, currency: 'usd', interval: 'month' } }, 'price.amount'],
      [{ price: { amount: 2_000, currency: 'xxx', interval: 'month' } }, 'price.currency'],
      [{ trialDays: 731 }, 'trialDays'],
      [{ trialDays: 0 }, 'trialDays'],
      [{ testClock: 'clock_nope' }, 'testClock'],
      [{ paymentMethod: 'pm card' }, 'paymentMethod'],
      [{ customerId: 'cus invalid' }, 'customerId'],
      [{ metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ];
    for (const [overrides, path] of cases) {
      const res = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_invalid', ...overrides }) });
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('validation_failed');
      if (path) expect((res.body.errors as { path: string }[]).map((e) => e.path), JSON.stringify(overrides)).toContain(path);
    }
    const ifMatch = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody(), headers: { 'if-match': '"0"' } });
    expect(ifMatch.body).toMatchObject({ status: 400, errors: [{ path: 'If-Match', message: 'is not supported when creating a subscription' }] });
    const query = await api.request('POST', '/v1/subscriptions?x=1', { body: subscriptionBody() });
    expect(query.status).toBe(400);
    const malformed = await fetch(`${api.service.url}/v1/subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' }, body: '{"customerId":' });
    expect(malformed.status).toBe(400);
    const huge = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ metadata: { big: 'x'.repeat(70_000) } }) });
    expect(huge.status).toBe(413);
    const unknownClock = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_invalid', testClock: 'clock_01JD3Q4V5W6X7Y8Z9A0B1C2D3E' }) });
    expect(unknownClock.body).toMatchObject({ status: 404, code: 'test_clock_not_found', errors: [{ path: 'testClock' }] });
    expect((await api.request('GET', '/v1/subscriptions?customerId=cus_invalid')).body.data.length).toBe(before);
  });

  it('Idempotency-Key: the same key and body replays the first answer byte for byte; another body is 422', async () => {
    const headers = { 'idempotency-key': 'sub-idem-1' };
    const first = await create({ customerId: 'cus_idem' }, { headers });
    const second = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_idem' }), headers });
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('ledger-position')).toBe(first.headers.get('ledger-position'));
    const other = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_idem', trialDays: 3 }), headers });
    expect(other.body).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    const list = await api.request('GET', `/v1/subscriptions?customerId=cus_idem&minPosition=${first.headers.get('ledger-position')}`);
    expect(ids(list.body)).toEqual([first.body.id]);
  });
});

describe('GET /v1/subscriptions', () => {
  it('pages newest first with a cursor, filters by customer and status; a bad cursor is 400', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await create({ customerId: 'cus_list', trialDays: 1 + i })).body);
    const last = made.at(-1)!;
    const first = await api.request('GET', `/v1/subscriptions?customerId=cus_list&limit=2&minPosition=${String(await positionOf(last.id))}`);
    expect(first.status).toBe(200);
    expect(ids(first.body)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api.request('GET', `/v1/subscriptions?customerId=cus_list&limit=2&cursor=${encodeURIComponent(String(first.body.nextCursor))}`);
    expect(ids(second.body)).toEqual([made[0]!.id]);
    expect(second.body.nextCursor).toBeNull();
    // A list row is the GET's bytes.
    const one = await api.request('GET', `/v1/subscriptions/${String(made[0]!.id)}`);
    expect(JSON.stringify(second.body.data[0])).toBe(one.text);
    expect((await api.request('GET', '/v1/subscriptions?customerId=cus_list&status=active')).body.data).toEqual([]);
    expect((await api.request('GET', '/v1/subscriptions?customerId=cus_list&status=trialing')).body.data).toHaveLength(3);
    expect((await api.request('GET', '/v1/subscriptions?cursor=nope')).body).toMatchObject({ status: 400, code: 'invalid_cursor' });
    expect((await api.request('GET', '/v1/subscriptions?status=sleeping')).body).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await api.request('GET', '/v1/subscriptions?limit=101')).status).toBe(400);
    expect((await api.request('GET', '/v1/subscriptions?bogus=1')).status).toBe(400);
  });

  it('a malformed or unknown id is 404 subscription_not_found; likewise an invoice', async () => {
    for (const path of ['/v1/subscriptions/nope', '/v1/subscriptions/sub_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', '/v1/subscriptions/sub_01JD3Q4V5W6X7Y8Z9A0B1C2D3E/invoices']) {
      expect((await api.request('GET', path)).body, path).toMatchObject({ status: 404, code: 'subscription_not_found' });
    }
    for (const path of ['/v1/invoices/nope', '/v1/invoices/in_01JD3Q4V5W6X7Y8Z9A0B1C2D3E']) {
      expect((await api.request('GET', path)).body, path).toMatchObject({ status: 404, code: 'invoice_not_found' });
    }
  });
});

/** The Ledger-Position a no-op PATCH answers is the subscription's last write: waiting for it makes the subscription visible. */
async function positionOf(id: unknown): Promise<string> {
  const res = await api.request('PATCH', `/v1/subscriptions/${String(id)}`, { body: { cancelAtPeriodEnd: false } });
  expect(res.status, res.text).toBe(200);
  return res.headers.get('ledger-position') ?? '';
}

describe('changing a subscription', () => {
  it('PATCH sets metadata and cancel at period end; If-Match with a stale ETag is 412, with the current one 200; an empty PATCH is 400', async () => {
    const s = await active({ customerId: 'cus_patch' });
    const etag = `"${String(s.revision)}"`;
    const patched = await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: { metadata: { seats: '5' }, cancelAtPeriodEnd: true }, headers: { 'if-match': etag } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, metadata: { seats: '5' }, latestInvoice: s.latestInvoice });
    expect(patched.headers.get('etag')).toBe(`"${Number(s.revision) + 1}"`);
    const stale = await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: { cancelAtPeriodEnd: false }, headers: { 'if-match': etag } });
    expect(stale.body).toMatchObject({ status: 412, code: 'revision_mismatch', expectedRevision: String(s.revision), currentRevision: String(Number(s.revision) + 1) });
    const undo = await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: { cancelAtPeriodEnd: false }, headers: { 'if-match': patched.headers.get('etag')! } });
    expect(undo.body).toMatchObject({ cancelAtPeriodEnd: false });
    const read = await api.request('GET', `/v1/subscriptions/${String(s.id)}?minPosition=${undo.headers.get('ledger-position')}`);
    expect(read.text).toBe(undo.text);
    expect((await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: {} })).body).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: { status: 'active' } })).status).toBe(400);
  });

  it('cancel with proration ends it; a command on an ended subscription is 409 subscription_ended', async () => {
    const s = await active({ customerId: 'cus_cancel' });
    const canceled = await api.request('POST', `/v1/subscriptions/${String(s.id)}/cancel`, { body: { prorate: true } });
    expect(canceled.status, canceled.text).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', canceledAt: expect.any(String) });
    for (const [path, body] of [['cancel', undefined], ['pause', undefined], ['change-price', { price: { amount: 1, currency: 'usd', interval: 'month' } }]] as const) {
      const res = await api.request('POST', `/v1/subscriptions/${String(s.id)}/${path}`, { body });
      expect(res.body, path).toMatchObject({ status: 409, code: 'subscription_ended', subscriptionStatus: 'canceled' });
    }
    expect((await api.request('PATCH', `/v1/subscriptions/${String(s.id)}`, { body: { cancelAtPeriodEnd: true } })).body).toMatchObject({ code: 'subscription_ended' });
  });

  it('pause and resume: paused, then active on a new cycle invoiced at once; resuming an active one is 409', async () => {
    const s = await active({ customerId: 'cus_pause' });
    const paused = await api.request('POST', `/v1/subscriptions/${String(s.id)}/pause`);
    expect(paused.body).toMatchObject({ status: 'paused', pausedAt: expect.any(String) });
    const again = await api.request('POST', `/v1/subscriptions/${String(s.id)}/pause`, { body: {} });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(paused.headers.get('etag'));
    expect((await api.request('POST', `/v1/subscriptions/${String(s.id)}/pause`, { body: { now: true } })).status).toBe(400);
    const resumed = await api.request('POST', `/v1/subscriptions/${String(s.id)}/resume`);
    expect(resumed.body).toMatchObject({ status: 'active', pausedAt: null });
    expect(Date.parse(String(resumed.body.currentPeriodStart))).toBeGreaterThan(Date.parse(String(s.currentPeriodStart)));
    const twice = await api.request('POST', `/v1/subscriptions/${String(s.id)}/resume`);
    expect(twice.body).toMatchObject({ status: 409, code: 'illegal_subscription_transition', subscriptionStatus: 'active' });
    expect(twice.body.detail).toBe('Cannot resume a subscription whose status is active.');
    const invoices = await api.until(`/v1/subscriptions/${String(s.id)}/invoices`, (b) => b.data.length === 2 && b.data[0].status === 'paid');
    expect(invoices.data[0]).toMatchObject({ billingReason: 'subscription_resume', periodStart: resumed.body.currentPeriodStart, total: 2_000 });
  });

  it('change-price prorates: an invoice credits the old price\'s unused time and charges the new one\'s; another currency is 422', async () => {
    const s = await active({ customerId: 'cus_change' });
    const changed = await api.request('POST', `/v1/subscriptions/${String(s.id)}/change-price`, { body: { price: { amount: 5_000, currency: 'USD', interval: 'month' } } });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ status: 'active', price: { amount: 5_000, currency: 'USD', interval: 'month', intervalCount: 1 }, currentPeriodStart: s.currentPeriodStart });
    const invoices = await api.until(`/v1/subscriptions/${String(s.id)}/invoices`, (b) => b.data.length === 2 && b.data[0].status === 'paid');
    const proration = invoices.data[0];
    expect(proration.billingReason).toBe('subscription_update');
    const lines = proration.lines as { kind: string; amount: number }[];
    expect(lines.map((l) => l.kind).sort()).toEqual(['proration_charge', 'proration_credit']);
    const credit = lines.find((l) => l.kind === 'proration_credit')!.amount;
    const charge = lines.find((l) => l.kind === 'proration_charge')!.amount;
    // Almost the whole month is left: nearly all of the old price back, nearly all of the new one charged.
    expect(credit).toBeLessThan(0);
    expect(-credit).toBeGreaterThan(1_990);
    expect(charge).toBeGreaterThan(4_980);
    expect(proration.total).toBe(charge + credit);
    expect(proration.amountPaid).toBe(proration.total);
    const mismatch = await api.request('POST', `/v1/subscriptions/${String(s.id)}/change-price`, { body: { price: { amount: 5_000, currency: 'eur', interval: 'month' } } });
    expect(mismatch.body).toMatchObject({ status: 422, code: 'subscription_currency_mismatch', currency: 'USD', errors: [{ path: 'price.currency' }] });
    expect((await api.request('POST', `/v1/subscriptions/${String(s.id)}/change-price`, {})).status).toBe(400);
  });
});

describe('scopes and customers', () => {
  it('subscriptions:write creates and changes, subscriptions:read reads; neither payments scope will do', async () => {
    const made = await create({ customerId: 'cus_scope', trialDays: 7 });
    const s = made.body;
    const position = made.headers.get('ledger-position') ?? '';
    const paymentsWrite = await mintToken({ scopes: ['payments:write', 'payments:read'] });
    const writeOnly = await mintToken({ scopes: ['subscriptions:write'] });
    const readOnly = await mintToken({ scopes: ['subscriptions:read'] });
    expect((await api.request('POST', '/v1/subscriptions', { body: subscriptionBody(), token: paymentsWrite })).body).toMatchObject({ status: 403, code: 'insufficient_scope', requiredScope: 'subscriptions:write' });
    expect((await api.request('GET', `/v1/subscriptions/${String(s.id)}`, { token: paymentsWrite })).body).toMatchObject({ status: 403, requiredScope: 'subscriptions:read' });
    expect((await api.request('GET', '/v1/invoices', { token: writeOnly })).status).toBe(403);
    expect((await api.request('POST', `/v1/subscriptions/${String(s.id)}/pause`, { token: readOnly })).status).toBe(403);
    expect((await api.request('GET', `/v1/subscriptions/${String(s.id)}?minPosition=${position}`, { token: readOnly })).status).toBe(200);
    expect((await api.request('POST', `/v1/subscriptions/${String(s.id)}/pause`, { token: writeOnly })).status).toBe(200);
  });

  it('a customer-scoped credential creates, sees and changes only its own customer\'s subscriptions and invoices; another\'s is 404, asking for another\'s list 403', async () => {
    const alice = await mintToken({ scopes: ['subscriptions:write', 'subscriptions:read'], customerId: 'cus_alice' });
    const bob = await active({ customerId: 'cus_bob' });
    const bobInvoice = String(bob.latestInvoice);

    expect((await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_bob' }), token: alice })).body).toMatchObject({
      status: 403,
      code: 'forbidden',
      errors: [{ path: 'customerId' }],
    });
    const clock = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_alice', testClock: 'clock_01JD3Q4V5W6X7Y8Z9A0B1C2D3E' }), token: alice });
    expect(clock.body).toMatchObject({ status: 403, code: 'forbidden', errors: [{ path: 'testClock' }] });
    const mine = await create({ customerId: 'cus_alice' }, { token: alice });
    const aliceDone = await api.until(`/v1/subscriptions/${String(mine.body.id)}`, (b) => b.status === 'active');

    for (const path of [`/v1/subscriptions/${String(bob.id)}`, `/v1/subscriptions/${String(bob.id)}/invoices`]) {
      expect((await api.request('GET', path, { token: alice })).body, path).toMatchObject({ status: 404, code: 'subscription_not_found' });
    }
    expect((await api.request('GET', `/v1/invoices/${bobInvoice}`, { token: alice })).body).toMatchObject({ status: 404, code: 'invoice_not_found' });
    for (const [method, path, body] of [
      ['PATCH', `/v1/subscriptions/${String(bob.id)}`, { cancelAtPeriodEnd: true }],
      ['POST', `/v1/subscriptions/${String(bob.id)}/cancel`, undefined],
      ['POST', `/v1/subscriptions/${String(bob.id)}/pause`, undefined],
      ['POST', `/v1/subscriptions/${String(bob.id)}/change-price`, { price: { amount: 1, currency: 'usd', interval: 'month' } }],
    ] as const) {
      expect((await api.request(method, path, { body, token: alice })).body, path).toMatchObject({ status: 404, code: 'subscription_not_found' });
    }
    expect((await api.request('GET', `/v1/subscriptions/${String(bob.id)}`)).body).toMatchObject({ status: 'active', cancelAtPeriodEnd: false });

    for (const path of ['/v1/subscriptions?customerId=cus_bob', '/v1/invoices?customerId=cus_bob']) {
      expect((await api.request('GET', path, { token: alice })).body, path).toMatchObject({ status: 403, code: 'forbidden', errors: [{ path: 'customerId' }] });
    }
    const subs = (await api.request('GET', '/v1/subscriptions', { token: alice })).body.data as { customerId: string }[];
    expect(subs.map((s) => s.customerId)).toEqual(['cus_alice']);
    const invoices = (await api.request('GET', '/v1/invoices', { token: alice })).body.data as { customerId: string; id: string }[];
    expect(invoices.map((i) => i.id)).toEqual([aliceDone.latestInvoice]);
    expect((await api.request('GET', `/v1/invoices/${String(aliceDone.latestInvoice)}`, { token: alice })).status).toBe(200);
    expect((await api.request('POST', `/v1/subscriptions/${String(mine.body.id)}/pause`, { token: alice })).body).toMatchObject({ status: 'paused' });
  });

  it('GET /v1/invoices filters by customer, subscription and status', async () => {
    const s = await active({ customerId: 'cus_invoices' });
    const all = (await api.request('GET', '/v1/invoices?customerId=cus_invoices')).body.data as { id: string }[];
    expect(all.map((i) => i.id)).toEqual([s.latestInvoice]);
    expect((await api.request('GET', `/v1/invoices?subscriptionId=${String(s.id)}&status=paid`)).body.data).toHaveLength(1);
    expect((await api.request('GET', `/v1/invoices?subscriptionId=${String(s.id)}&status=open`)).body.data).toEqual([]);
    expect((await api.request('GET', '/v1/invoices?subscriptionId=nope')).status).toBe(400);
  });
});

describe('the OpenAPI document', () => {
  it('documents every subscription, invoice and test-clock operation with its scope', async () => {
    const doc = (await api.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { security: unknown; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
    const expected: [string, string, string][] = [
      ['/v1/subscriptions', 'post', 'subscriptions:write'],
      ['/v1/subscriptions', 'get', 'subscriptions:read'],
      ['/v1/subscriptions/{id}', 'get', 'subscriptions:read'],
      ['/v1/subscriptions/{id}', 'patch', 'subscriptions:write'],
      ['/v1/subscriptions/{id}/cancel', 'post', 'subscriptions:write'],
      ['/v1/subscriptions/{id}/pause', 'post', 'subscriptions:write'],
      ['/v1/subscriptions/{id}/resume', 'post', 'subscriptions:write'],
      ['/v1/subscriptions/{id}/change-price', 'post', 'subscriptions:write'],
      ['/v1/subscriptions/{id}/invoices', 'get', 'subscriptions:read'],
      ['/v1/invoices', 'get', 'subscriptions:read'],
      ['/v1/invoices/{id}', 'get', 'subscriptions:read'],
      ['/v1/test-clocks', 'post', 'subscriptions:write'],
      ['/v1/test-clocks/{id}', 'get', 'subscriptions:read'],
      ['/v1/test-clocks/{id}/advance', 'post', 'subscriptions:write'],
    ];
    for (const [path, method, scope] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op!.security).toEqual([{ bearerAuth: [scope] }]);
      expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
    for (const name of ['Subscription', 'SubscriptionList', 'Invoice', 'InvoiceList', 'TestClock', 'CreateSubscriptionRequest', 'AdvanceTestClockRequest']) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    // Every $ref resolves inside the document.
    const text = JSON.stringify(doc);
    for (const [, kind, name] of text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)) expect((doc.components as Record<string, Record<string, unknown>>)[kind!]).toHaveProperty(name!);
  });
});
