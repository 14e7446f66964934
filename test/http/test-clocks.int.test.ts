import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingApi, Loose } from './support/billing-api.js';
import { startBillingApi, subscriptionBody } from './support/billing-api.js';
import { mintToken } from './support/auth.js';
import { GatedProvider } from './support/gated-provider.js';

/*
 * /v1/test-clocks through the whole service: subscriptions on a clock live by its frozen
 * time; an advance runs their renewals, charges and expiries and answers when done.
 */

let api: BillingApi;
beforeAll(async () => {
  api = await startBillingApi('http_test_clocks');
});
afterAll(async () => {
  await api?.close();
});

const START = '2026-01-15T12:00:00.000Z';
const unix = (iso: string): number => Date.parse(iso) / 1000;

const newClock = async (frozenTime: string | number = START, name?: string) => {
  const res = await api.request('POST', '/v1/test-clocks', { body: { frozenTime, ...(name ? { name } : {}) } });
  expect(res.status, res.text).toBe(201);
  return res.body;
};
const advance = (clock: string, frozenTime: string | number, headers: Record<string, string> = {}) =>
  api.request('POST', `/v1/test-clocks/${clock}/advance`, { body: { frozenTime }, headers });
const subscribe = async (clock: string, overrides: Record<string, unknown> = {}) => {
  const res = await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ testClock: clock, ...overrides }) });
  expect(res.status, res.text).toBe(201);
  return res.body;
};
const invoices = async (subscription: string, minPosition?: string) =>
  (await api.request('GET', `/v1/subscriptions/${subscription}/invoices?limit=100${minPosition ? `&minPosition=${minPosition}` : ''}`)).body.data as Loose[];

describe('POST /v1/test-clocks and GET /v1/test-clocks/:id', () => {
  it('creates from Unix seconds or ISO 8601, answers ISO 8601, and reads back with no advances', async () => {
    const fromUnix = await api.request('POST', '/v1/test-clocks', { body: { frozenTime: unix(START), name: 'monthly renewals' } });
    expect(fromUnix.status).toBe(201);
    expect(Object.keys(fromUnix.body)).toEqual(['id', 'object', 'frozenTime', 'status', 'name', 'advancingTo', 'revision']);
    expect(fromUnix.body).toMatchObject({ object: 'test_clock', frozenTime: START, status: 'ready', name: 'monthly renewals', advancingTo: null, revision: '0' });
    expect(fromUnix.body.id).toMatch(/^clock_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(fromUnix.headers.get('location')).toBe(`/v1/test-clocks/${String(fromUnix.body.id)}`);
    expect(fromUnix.headers.get('etag')).toBe('"0"');
    expect(fromUnix.headers.get('ledger-position')).toMatch(/^\d+\.\d+$/);
    const fromIso = await newClock('2026-01-15T13:00:00+01:00');
    expect(fromIso).toMatchObject({ frozenTime: START, name: null });
    const read = await api.request('GET', `/v1/test-clocks/${String(fromUnix.body.id)}`);
    expect(read.body).toMatchObject({ ...fromUnix.body, advances: [] });
    expect(read.headers.get('etag')).toBe('"0"');
  });

  it('validation: 400 for times out of bounds, fractions, junk, unknown fields; 404 for an unknown or malformed clock', async () => {
    for (const frozenTime of [unix('1999-12-31T23:59:59Z'), unix('2100-01-01T00:00:01Z'), 1768478400.5, '2026-01-15', 'tomorrow', '2026-01-15T12:00:00.500Z', null]) {
      const res = await api.request('POST', '/v1/test-clocks', { body: { frozenTime } });
      expect(res.status, String(frozenTime)).toBe(400);
      expect(res.body.errors[0].path).toBe('frozenTime');
    }
    expect((await api.request('POST', '/v1/test-clocks', { body: { frozenTime: START, name: 'x'.repeat(101) } })).status).toBe(400);
    expect((await api.request('POST', '/v1/test-clocks', { body: { frozenTime: START, livemode: false } })).status).toBe(400);
    expect((await api.request('POST', '/v1/test-clocks', { body: { frozenTime: START }, headers: { 'if-match': '"0"' } })).status).toBe(400);
    for (const path of ['/v1/test-clocks/nope', '/v1/test-clocks/clock_01JD3Q4V5W6X7Y8Z9A0B1C2D3E']) {
      expect((await api.request('GET', path)).body, path).toMatchObject({ status: 404, code: 'test_clock_not_found' });
    }
    expect((await advance('clock_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', '2026-02-01T00:00:00Z')).body).toMatchObject({ status: 404, code: 'test_clock_not_found' });
  });

  it('an advance must go forward, by at most two years (422); the clock is unchanged', async () => {
    const clock = await newClock();
    const backwards = await advance(String(clock.id), START);
    expect(backwards.body).toMatchObject({ status: 422, code: 'test_clock_backwards', frozenTime: START, errors: [{ path: 'frozenTime' }] });
    const tooFar = await advance(String(clock.id), '2028-02-01T00:00:00Z');
    expect(tooFar.body).toMatchObject({ status: 422, code: 'test_clock_advance_too_far', maxDays: 732 });
    expect((await api.request('GET', `/v1/test-clocks/${String(clock.id)}`)).body).toMatchObject({ frozenTime: START, status: 'ready', revision: '0', advances: [] });
  });

  it('scopes: subscriptions:write to create and advance, subscriptions:read to read; a customer-scoped credential is 403 whatever its scopes', async () => {
    const clock = await newClock();
    const readOnly = await mintToken({ scopes: ['subscriptions:read'] });
    const payments = await mintToken({ scopes: ['payments:write', 'payments:read'] });
    const customer = await mintToken({ scopes: ['subscriptions:write', 'subscriptions:read'], customerId: 'cus_clock' });
    expect((await api.request('POST', '/v1/test-clocks', { body: { frozenTime: START }, token: readOnly })).body).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect((await api.request('POST', '/v1/test-clocks', { body: { frozenTime: START }, token: payments })).body).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect((await api.request('GET', `/v1/test-clocks/${String(clock.id)}`, { token: payments })).status).toBe(403);
    expect((await api.request('GET', `/v1/test-clocks/${String(clock.id)}`, { token: readOnly })).status).toBe(200);
    expect((await api.request('POST', `/v1/test-clocks/${String(clock.id)}/advance`, { body: { frozenTime: '2026-02-01T00:00:00Z' }, token: readOnly })).status).toBe(403);
    for (const [method, path, body] of [
      ['POST', '/v1/test-clocks', { frozenTime: START }],
      ['GET', `/v1/test-clocks/${String(clock.id)}`, undefined],
      ['POST', `/v1/test-clocks/${String(clock.id)}/advance`, { frozenTime: '2026-02-01T00:00:00Z' }],
    ] as const) {
      expect((await api.request(method, path, { body, token: customer })).body, path).toMatchObject({ status: 403, code: 'forbidden' });
    }
    expect((await api.request('GET', `/v1/test-clocks/${String(clock.id)}`)).body).toMatchObject({ frozenTime: START, revision: '0' });
  });
});

describe('subscriptions on a test clock', () => {
  it('live on the clock\'s time; advancing three months renews three times, invoiced and paid; another clock\'s and the real clock\'s subscriptions are untouched; the advance is recorded with who asked', async () => {
    const clock = String((await newClock(START, 'three months')).id);
    const other = String((await newClock(START)).id);
    const sub = await subscribe(clock, { customerId: 'cus_clock_a' });
    expect(sub).toMatchObject({ testClock: clock, createdAt: START, currentPeriodStart: START, currentPeriodEnd: '2026-02-15T12:00:00.000Z', status: 'incomplete' });
    const bystander = await subscribe(other, { customerId: 'cus_clock_b' });
    const real = (await api.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_clock_real' }) })).body;
    // The first invoices are charged in the background, on each clock's time.
    for (const s of [sub, bystander, real]) await api.until(`/v1/subscriptions/${String(s.id)}`, (b) => b.status === 'active');
    const [first] = await invoices(String(sub.id));
    expect(first).toMatchObject({ status: 'paid', createdAt: START, testClock: clock, billingReason: 'subscription_create' });

    const moved = await advance(clock, unix('2026-04-20T00:00:00Z'));
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ id: clock, status: 'ready', frozenTime: '2026-04-20T00:00:00.000Z', advancingTo: null });
    const position = moved.headers.get('ledger-position') ?? '';

    const list = await invoices(String(sub.id), position);
    expect(list.map((i): unknown[] => [i.billingReason, i.periodStart, i.status, i.amountPaid])).toEqual([
      ['subscription_cycle', '2026-04-15T12:00:00.000Z', 'paid', 2_000],
      ['subscription_cycle', '2026-03-15T12:00:00.000Z', 'paid', 2_000],
      ['subscription_cycle', '2026-02-15T12:00:00.000Z', 'paid', 2_000],
      ['subscription_create', START, 'paid', 2_000],
    ]);
    expect(new Set(list.flatMap((i) => i.payments as string[])).size).toBe(4);
    const renewed = (await api.request('GET', `/v1/subscriptions/${String(sub.id)}`)).body;
    expect(renewed).toMatchObject({ status: 'active', currentPeriodStart: '2026-04-15T12:00:00.000Z', currentPeriodEnd: '2026-05-15T12:00:00.000Z', latestInvoice: list[0]!.id });

    // The other clock and the real clock did not move.
    expect(await invoices(String(bystander.id))).toHaveLength(1);
    expect((await api.request('GET', `/v1/subscriptions/${String(bystander.id)}`)).body).toMatchObject({ currentPeriodStart: START });
    expect(await invoices(String(real.id))).toHaveLength(1);
    expect((await api.request('GET', `/v1/test-clocks/${other}`)).body).toMatchObject({ frozenTime: START, advances: [] });

    // A subscription created now starts at the clock's new time.
    expect(await subscribe(clock, { customerId: 'cus_clock_late', trialDays: 3 })).toMatchObject({ createdAt: '2026-04-20T00:00:00.000Z', trialEnd: '2026-04-23T00:00:00.000Z' });

    const audited = (await api.request('GET', `/v1/test-clocks/${clock}`)).body;
    expect(audited.advances).toEqual([
      { from: START, to: '2026-04-20T00:00:00.000Z', requestedBy: 'jwt:billing-admin', requestedAt: expect.any(String), finishedAt: expect.any(String) },
    ]);
    expect(Date.parse(String(audited.advances[0].finishedAt))).toBeGreaterThanOrEqual(Date.parse(String(audited.advances[0].requestedAt)));
  });

  it('an advance right after creating subscriptions on the clock runs their first invoices and renewals: nothing is missed for not being projected yet', async () => {
    const clock = String((await newClock()).id);
    const subs = [await subscribe(clock, { customerId: 'cus_clock_quick' }), await subscribe(clock, { customerId: 'cus_clock_quick', trialDays: 10 })];
    const moved = await advance(clock, '2026-02-16T00:00:00Z');
    expect(moved.status, moved.text).toBe(200);
    const position = moved.headers.get('ledger-position') ?? undefined;
    expect((await invoices(String(subs[0]!.id), position)).map((i): unknown[] => [i.billingReason, i.status])).toEqual([
      ['subscription_cycle', 'paid'],
      ['subscription_create', 'paid'],
    ]);
    expect((await invoices(String(subs[1]!.id))).map((i): unknown[] => [i.billingReason, i.periodStart, i.status])).toEqual([['subscription_cycle', '2026-01-25T12:00:00.000Z', 'paid']]);
    for (const s of subs) expect((await api.request('GET', `/v1/subscriptions/${String(s.id)}`)).body.status).toBe('active');
  });

  it('cancel at period end on a clock: the advance past the period end cancels instead of renewing', async () => {
    const clock = String((await newClock()).id);
    const sub = await subscribe(clock, { customerId: 'cus_clock_cancel' });
    await api.until(`/v1/subscriptions/${String(sub.id)}`, (b) => b.status === 'active');
    expect((await api.request('PATCH', `/v1/subscriptions/${String(sub.id)}`, { body: { cancelAtPeriodEnd: true } })).status).toBe(200);
    const moved = await advance(clock, '2026-03-01T00:00:00Z');
    expect(moved.status).toBe(200);
    const ended = (await api.request('GET', `/v1/subscriptions/${String(sub.id)}?minPosition=${moved.headers.get('ledger-position')}`)).body;
    expect(ended).toMatchObject({ status: 'canceled', canceledAt: '2026-02-15T12:00:00.000Z' });
    expect(await invoices(String(sub.id))).toHaveLength(1);
  });

  it('a declined card: incomplete with its first invoice open; still incomplete after 22 h; incomplete_expired with the invoice void after 23 h, and never charged again', async () => {
    const clock = String((await newClock()).id);
    const sub = await subscribe(clock, { customerId: 'cus_clock_declined', paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' });
    const failed = await api.until(`/v1/invoices?subscriptionId=${String(sub.id)}`, (b) => b.data.length === 1 && b.data[0].attemptCount === 1 && b.data[0].attempts[0].outcome === 'failed');
    expect(failed.data[0]).toMatchObject({ status: 'open', amountPaid: 0, amountDue: 2_000, attempts: [{ attempt: 1, outcome: 'failed', failureCode: 'insufficient_funds' }] });
    expect((await api.request('GET', `/v1/subscriptions/${String(sub.id)}`)).body).toMatchObject({ status: 'incomplete' });

    const early = await advance(clock, '2026-01-16T10:00:00Z');
    expect(early.status).toBe(200);
    expect((await api.request('GET', `/v1/subscriptions/${String(sub.id)}?minPosition=${early.headers.get('ledger-position')}`)).body).toMatchObject({ status: 'incomplete' });

    const late = await advance(clock, '2026-01-16T11:01:00Z');
    expect(late.status).toBe(200);
    const expired = (await api.request('GET', `/v1/subscriptions/${String(sub.id)}?minPosition=${late.headers.get('ledger-position')}`)).body;
    expect(expired).toMatchObject({ status: 'incomplete_expired' });
    const later = await advance(clock, '2026-01-25T00:00:00Z');
    const [invoice] = await invoices(String(sub.id), later.headers.get('ledger-position') ?? undefined);
    expect(invoice).toMatchObject({ status: 'void', attemptCount: 1, amountPaid: 0 });
    expect((await api.request('GET', `/v1/subscriptions/${String(sub.id)}`)).body.status).toBe('incomplete_expired');
  });

  it('Idempotency-Key on an advance replays the first answer; asking again without it for the time the clock is at is 422', async () => {
    const clock = String((await newClock()).id);
    const headers = { 'idempotency-key': `advance-${clock}` };
    const first = await advance(clock, '2026-01-20T00:00:00Z', headers);
    expect(first.status).toBe(200);
    const replay = await advance(clock, '2026-01-20T00:00:00Z', headers);
    expect(replay.text).toBe(first.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await advance(clock, '2026-01-21T00:00:00Z', headers)).body).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect((await advance(clock, '2026-01-20T00:00:00Z')).body).toMatchObject({ status: 422, code: 'test_clock_backwards' });
    expect((await api.request('GET', `/v1/test-clocks/${clock}`)).body.advances).toHaveLength(1);
  });
});

describe('an advance whose billing cannot finish', () => {
  let down: BillingApi;
  const provider = new GatedProvider();
  beforeAll(async () => {
    down = await startBillingApi('http_test_clocks_down', { paymentProvider: provider });
  });
  afterAll(async () => {
    await down?.close();
  });

  it('answers 503 billing_not_settled while the processor is unreachable; the same advance asked again finishes it', async () => {
    const clock = String((await down.request('POST', '/v1/test-clocks', { body: { frozenTime: START } })).body.id);
    const created = await down.request('POST', '/v1/subscriptions', { body: subscriptionBody({ customerId: 'cus_clock_down', testClock: clock, trialDays: 1 }) });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    provider.unavailable = true;
    const refused = await down.request('POST', `/v1/test-clocks/${clock}/advance`, { body: { frozenTime: '2026-01-17T00:00:00Z' } });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'billing_not_settled' });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.text).not.toContain('ECONNREFUSED');
    expect((await down.request('GET', `/v1/test-clocks/${clock}`)).body).toMatchObject({ status: 'advancing', advancingTo: '2026-01-17T00:00:00.000Z', frozenTime: START });
    // Another target while that one is unfinished is refused.
    expect((await down.request('POST', `/v1/test-clocks/${clock}/advance`, { body: { frozenTime: '2026-01-18T00:00:00Z' } })).body).toMatchObject({ status: 409, code: 'test_clock_advancing' });

    provider.unavailable = false;
    const finished = await down.request('POST', `/v1/test-clocks/${clock}/advance`, { body: { frozenTime: '2026-01-17T00:00:00Z' } });
    expect(finished.status, finished.text).toBe(200);
    expect(finished.body).toMatchObject({ status: 'ready', frozenTime: '2026-01-17T00:00:00.000Z' });
    const sub = (await down.request('GET', `/v1/subscriptions/${id}?minPosition=${finished.headers.get('ledger-position')}`)).body;
    expect(sub).toMatchObject({ status: 'active', currentPeriodStart: '2026-01-16T12:00:00.000Z' });
    const [invoice, ...rest] = (await down.request('GET', `/v1/subscriptions/${id}/invoices`)).body.data as Loose[];
    expect(rest).toEqual([]);
    expect(invoice).toMatchObject({ status: 'paid', attemptCount: 1, amountPaid: 2_000 });
    expect((await down.request('GET', `/v1/test-clocks/${clock}`)).body.advances).toEqual([expect.objectContaining({ to: '2026-01-17T00:00:00.000Z', finishedAt: expect.any(String) })]);
  });
});
