import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePosition } from '../../src/application/ports/position.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_refunds');
});
afterAll(async () => {
  await h?.close();
});

const payment = async (overrides: Record<string, unknown> = {}) => {
  const res = await h.request('POST', '/v1/payments', { body: createBody({ amount: 10_000, ...overrides }) });
  expect(res.status).toBe(201);
  return res.payment;
};
const refund = (body: Record<string, unknown>, options: { headers?: Record<string, string>; token?: string } = {}) =>
  h.request('POST', '/v1/refunds', { body, ...options });

describe('POST /v1/refunds', () => {
  it('refunds part of a payment: 201, the refund, ETag of the refund stream, Location, Ledger-Position; the payment is partially_refunded', async () => {
    const p = await payment({ metadata: { order: '1' } });
    const res = await refund({ paymentId: p.id, amount: 2_500, reason: 'requested_by_customer', metadata: { ticket: 'T-1' } });
    expect(res.status).toBe(201);
    const body = res.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'object', 'paymentId', 'customerId', 'amount', 'currency', 'status', 'reason', 'failureReason', 'metadata', 'revision', 'createdAt', 'updatedAt']);
    expect(body).toMatchObject({ object: 'refund', paymentId: p.id, customerId: 'cus_42', amount: 2_500, currency: 'USD', status: 'succeeded', reason: 'requested_by_customer', failureReason: null, metadata: { ticket: 'T-1' }, revision: '1' });
    expect(body.id).toMatch(/^re_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe(`/v1/refunds/${String(body.id)}`);
    expect(parsePosition(res.headers.get('ledger-position') ?? '')).toBeDefined();
    const after = await h.request('GET', `/v1/payments/${p.id}`);
    expect(after.payment).toMatchObject({ status: 'partially_refunded', amountCaptured: 10_000, amountRefunded: 2_500 });
    const keys = Object.keys(after.json as object);
    expect(keys.indexOf('amountRefunded')).toBe(keys.indexOf('amountReleased') + 1);
  });

  it('an omitted amount refunds everything left; the payment is then refunded and a further refund is 409 payment_not_refundable', async () => {
    const p = await payment();
    await refund({ paymentId: p.id, amount: 1_000 });
    const rest = await refund({ paymentId: p.id });
    expect(rest.status).toBe(201);
    expect(rest.json).toMatchObject({ amount: 9_000, status: 'succeeded', reason: null });
    expect((await h.request('GET', `/v1/payments/${p.id}`)).payment).toMatchObject({ status: 'refunded', amountRefunded: 10_000 });
    const before = await h.countEvents();
    const again = await refund({ paymentId: p.id, amount: 1 });
    expect(again.status).toBe(409);
    expect(again.problem).toMatchObject({ code: 'payment_not_refundable', paymentStatus: 'refunded' });
    expect(await h.countEvents()).toBe(before);
  });

  it('409 amount_exceeds_refundable names the refundable amount and currency, and appends nothing', async () => {
    const p = await payment({ currency: 'JPY', amount: 5_000 });
    await refund({ paymentId: p.id, amount: 2_000 });
    const before = await h.countEvents();
    const res = await refund({ paymentId: p.id, amount: 3_001 });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.problem).toMatchObject({ code: 'amount_exceeds_refundable', refundable: 3_000, requested: 3_001, currency: 'JPY' });
    expect(res.problem.detail).toContain('3000 JPY');
    expect(await h.countEvents()).toBe(before);
  });

  it('a payment awaiting capture, or declined, is not refundable (409); an unknown one is 404', async () => {
    const manual = await payment({ captureMethod: 'manual' });
    const declined = await payment({ paymentMethod: 'pm_card_chargeDeclined' });
    const before = await h.countEvents();
    expect((await refund({ paymentId: manual.id })).problem).toMatchObject({ status: 409, code: 'payment_not_refundable', paymentStatus: 'requires_capture' });
    expect((await refund({ paymentId: declined.id })).problem).toMatchObject({ status: 409, code: 'payment_not_refundable', paymentStatus: 'failed' });
    expect((await refund({ paymentId: 'pay_01JD0000000000000000000000' })).problem).toMatchObject({ status: 404, code: 'payment_not_found' });
    expect(await h.countEvents()).toBe(before);
  });

  it('validation: 400 for unknown fields, a bad reason, a zero amount, a malformed payment id, If-Match; nothing written', async () => {
    const p = await payment();
    const before = await h.countEvents();
    for (const body of [
      { paymentId: p.id, amount: 1, extra: true },
      { paymentId: p.id, reason: 'abandoned' },
      { paymentId: p.id, amount: 0 },
      { paymentId: p.id, amount: 1.5 },
      { paymentId: 'pay_nope' },
      {},
    ]) {
      const res = await refund(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.problem.code).toBe('validation_failed');
    }
    const ifMatch = await refund({ paymentId: p.id }, { headers: { 'if-match': '"1"' } });
    expect(ifMatch.status).toBe(400);
    expect(ifMatch.problem.errors).toEqual([{ path: 'If-Match', message: 'is not supported when creating a refund' }]);
    expect(await h.countEvents()).toBe(before);
  });

  it('scopes and customers: refunds:write is needed; a customer credential refunds only its own payments (another is 404)', async () => {
    const p = await payment();
    const before = await h.countEvents();
    const writer = await h.token({ scopes: ['payments:write'] });
    expect((await refund({ paymentId: p.id }, { token: writer })).problem).toMatchObject({ status: 403, code: 'insufficient_scope' });
    const stranger = await h.token({ scopes: ['refunds:write'], customerId: 'cus_other' });
    expect((await refund({ paymentId: p.id }, { token: stranger })).problem).toMatchObject({ status: 404, code: 'payment_not_found' });
    expect(await h.countEvents()).toBe(before);
    const owner = await h.token({ scopes: ['refunds:write'], customerId: 'cus_42' });
    expect((await refund({ paymentId: p.id, amount: 10 }, { token: owner })).status).toBe(201);
  });

  it('Idempotency-Key: the same key and body replays the first response byte for byte; another body is 422', async () => {
    const p = await payment();
    const headers = { 'idempotency-key': `refund-${p.id}` };
    const first = await refund({ paymentId: p.id, amount: 700 }, { headers });
    expect(first.status).toBe(201);
    const events = await h.countEvents();
    const second = await refund({ paymentId: p.id, amount: 700 }, { headers });
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await h.countEvents()).toBe(events);
    expect((await refund({ paymentId: p.id, amount: 701 }, { headers })).status).toBe(422);
  });

  it('pm_card_refundFail: the refund answers pending, and its amount stays reserved', async () => {
    const p = await payment({ paymentMethod: 'pm_card_refundFail' });
    const res = await refund({ paymentId: p.id, amount: 4_000 });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'pending', failureReason: null, revision: '0' });
    expect(res.headers.get('etag')).toBe('"0"');
    expect((await refund({ paymentId: p.id, amount: 6_001 })).problem).toMatchObject({ code: 'amount_exceeds_refundable', refundable: 6_000 });
  });

  it('20 concurrent refunds of random amounts never accept more than was captured', async () => {
    const p = await payment();
    const amounts = Array.from({ length: 20 }, () => 200 + Math.floor(Math.random() * 1_200));
    const answers = await Promise.all(amounts.map((amount) => refund({ paymentId: p.id, amount })));
    const accepted = answers.filter((a) => a.status === 201).map((a) => (a.json as { amount: number; status: string }));
    for (const a of answers) if (a.status !== 201) expect(['amount_exceeds_refundable', 'concurrency_conflict']).toContain(a.problem.code);
    const sum = accepted.reduce((s, a) => s + a.amount, 0);
    expect(sum).toBeLessThanOrEqual(10_000);
    expect(accepted.every((a) => a.status === 'succeeded')).toBe(true);
    expect((await h.request('GET', `/v1/payments/${p.id}`)).payment.amountRefunded).toBe(sum);
  });
});
