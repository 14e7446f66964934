import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePosition } from '../../src/application/ports/position.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_commands');
});
afterAll(async () => {
  await h?.close();
});

const createManual = async (overrides: Record<string, unknown> = {}) => {
  const res = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual', amount: 5000, ...overrides }) });
  expect(res.status).toBe(201);
  return res.payment;
};

describe('POST /v1/payments', () => {
  it('creates a payment: 201, the view, Ledger-Position, a strong ETag, Location, X-Request-Id', async () => {
    const res = await h.request('POST', '/v1/payments', {
      body: createBody({ description: 'Order #1', metadata: { orderId: '1' } }),
      headers: { 'x-request-id': 'req-create-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.payment).toMatchObject({
      object: 'payment',
      status: 'succeeded',
      customerId: 'cus_42',
      amount: 1999,
      amountCaptured: 1999,
      amountCapturable: 0,
      currency: 'USD',
      captureMethod: 'automatic',
      paymentMethod: 'pm_card_visa',
      description: 'Order #1',
      metadata: { orderId: '1' },
      failure: null,
      pendingOperation: null,
      // Intent first: PaymentRequested (0), PaymentAuthorized (1), PaymentCaptured (2).
      revision: '2',
    });
    expect(res.payment.id).toMatch(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(parsePosition(res.headers.get('ledger-position') ?? '')).toBeDefined();
    expect(res.headers.get('location')).toBe(`/v1/payments/${res.payment.id}`);
    expect(res.headers.get('x-request-id')).toBe('req-create-1');
    expect(res.headers.get('idempotent-replayed')).toBeNull();

    // The request id became the events' correlation id.
    const stream = await h.store.readStream(`payment-${res.payment.id}`);
    expect(stream.events.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);
    expect(stream.events.map((e) => e.metadata.correlationId)).toEqual(['req-create-1', 'req-create-1', 'req-create-1']);
    // The authenticated principal is the actor (the harness's admin token: sub test-admin).
    expect(stream.events[0]!.metadata.actor).toBe('jwt:test-admin');
  });

  it('a manual-capture payment is authorized only: requires_capture, revision 1 (its request, then its authorization)', async () => {
    const res = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
    expect(res.status).toBe(201);
    expect(res.payment).toMatchObject({ status: 'requires_capture', amountCapturable: 1999, amountCaptured: 0, revision: '1' });
    expect(res.headers.get('etag')).toBe('"1"');
  });

  it('accepts zero-exponent and three-exponent currencies in their own minor units', async () => {
    const jpy = await h.request('POST', '/v1/payments', { body: createBody({ amount: 500, currency: 'JPY' }) });
    const bhd = await h.request('POST', '/v1/payments', { body: createBody({ amount: 1234, currency: 'BHD' }) });
    expect([jpy.status, bhd.status]).toEqual([201, 201]);
    expect(jpy.payment).toMatchObject({ amount: 500, currency: 'JPY' });
    expect(bhd.payment).toMatchObject({ amount: 1234, currency: 'BHD' });
  });

  it('a declined card still creates the payment: 201 with status failed and the failure', async () => {
    const res = await h.request('POST', '/v1/payments', { body: createBody({ paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }) });
    expect(res.status).toBe(201);
    expect(res.payment).toMatchObject({
      status: 'failed',
      amountCaptured: 0,
      failure: { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
    });
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('ledger-position')).toMatch(/^\d+\.\d+$/);
  });

  it('an unknown payment method is 422 naming the field; its request ends as a failed payment (intent first)', async () => {
    const before = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', { body: createBody({ paymentMethod: 'pm_card_nonsense' }) });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.problem).toMatchObject({
      type: 'https://ledger.dev/problems/provider_invalid_request',
      status: 422,
      code: 'provider_invalid_request',
      instance: '/v1/payments',
      errors: [{ path: 'paymentMethod' }],
    });
    // The request was in the log before the processor refused it: it ends, it does not vanish.
    expect(await h.countEvents()).toBe(before + 2);
  });
});

describe('capture and cancel', () => {
  it('partial capture releases the rest; the payment is then succeeded', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`, { body: { amount: 3000 } });
    expect(res.status).toBe(200);
    expect(res.payment).toMatchObject({ status: 'succeeded', amountCaptured: 3000, amountReleased: 2000, amountCapturable: 0, revision: '3' });
    expect(res.headers.get('etag')).toBe('"3"');
    expect(res.headers.get('ledger-position')).toMatch(/^\d+\.\d+$/);
    expect(res.headers.get('location')).toBeNull();
  });

  it('full capture with no body at all', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`);
    expect(res.status).toBe(200);
    expect(res.payment).toMatchObject({ status: 'succeeded', amountCaptured: 5000, amountReleased: 0 });
  });

  it('full capture with an empty JSON object', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`, { body: {} });
    expect(res.status).toBe(200);
    expect(res.payment.amountCaptured).toBe(5000);
  });

  it('cancel, with and without a reason', async () => {
    const a = await createManual();
    const withReason = await h.request('POST', `/v1/payments/${a.id}/cancel`, { body: { reason: 'requested_by_customer' } });
    expect(withReason.status).toBe(200);
    expect(withReason.payment).toMatchObject({ status: 'canceled', cancellationReason: 'requested_by_customer', amountReleased: 5000 });
    expect(withReason.headers.get('etag')).toBe('"3"');

    const b = await createManual();
    const bare = await h.request('POST', `/v1/payments/${b.id}/cancel`);
    expect(bare.status).toBe(200);
    expect(bare.payment).toMatchObject({ status: 'canceled', cancellationReason: null });
  });

  it('an illegal transition is 409 and says from which status', async () => {
    const p = await createManual();
    expect((await h.request('POST', `/v1/payments/${p.id}/cancel`)).status).toBe(200);
    const before = await h.countEvents();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`);
    expect(res.status).toBe(409);
    expect(res.problem).toMatchObject({ code: 'illegal_transition', paymentStatus: 'canceled', command: 'capture', instance: `/v1/payments/${p.id}/capture` });
    expect(await h.countEvents()).toBe(before);
  });

  it('capturing a failed (declined) payment is 409', async () => {
    const declined = await h.request('POST', '/v1/payments', { body: createBody({ paymentMethod: 'pm_card_chargeDeclined' }) });
    const res = await h.request('POST', `/v1/payments/${declined.payment.id}/capture`);
    expect(res.status).toBe(409);
    expect(res.problem.code).toBe('illegal_transition');
  });

  it('over-capture is 422 with the capturable amount', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`, { body: { amount: 5001 } });
    expect(res.status).toBe(422);
    expect(res.problem).toMatchObject({ code: 'capture_exceeds_authorized', requested: 5001, capturable: 5000, errors: [{ path: 'amount' }] });
  });

  it('an unknown payment is 404', async () => {
    for (const action of ['capture', 'cancel']) {
      const res = await h.request('POST', `/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E/${action}`);
      expect(res.status).toBe(404);
      expect(res.problem).toMatchObject({ code: 'payment_not_found', type: 'https://ledger.dev/problems/payment_not_found' });
    }
  });

  it('a malformed id is 404 without reaching the command', async () => {
    const before = await h.countEvents();
    for (const id of ['nope', 'pay_short', 'pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3I', "pay_'; DROP TABLE events;--"]) {
      const res = await h.request('POST', `/v1/payments/${encodeURIComponent(id)}/capture`);
      expect(res.status, id).toBe(404);
      expect(res.problem.code).toBe('payment_not_found');
    }
    expect(await h.countEvents()).toBe(before);
  });
});

describe('If-Match', () => {
  it('a matching If-Match applies the command', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/capture`, { headers: { 'if-match': '"1"' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"3"');
  });

  it('a stale If-Match is 412 with the current revision, and writes nothing', async () => {
    const p = await createManual();
    const before = await h.countEvents();
    const res = await h.request('POST', `/v1/payments/${p.id}/cancel`, { headers: { 'if-match': '"7"' } });
    expect(res.status).toBe(412);
    expect(res.problem).toMatchObject({ code: 'revision_mismatch', expectedRevision: '7', currentRevision: '1' });
    expect(await h.countEvents()).toBe(before);
  });

  it('If-Match: * pins nothing', async () => {
    const p = await createManual();
    const res = await h.request('POST', `/v1/payments/${p.id}/cancel`, { headers: { 'if-match': '*' } });
    expect(res.status).toBe(200);
  });

  it('a malformed If-Match is 400 naming the header', async () => {
    const p = await createManual();
    for (const value of ['0', 'W/"0"', '"0", "1"', '"abc"', '""']) {
      const res = await h.request('POST', `/v1/payments/${p.id}/capture`, { headers: { 'if-match': value } });
      expect(res.status, value).toBe(400);
      expect(res.problem).toMatchObject({ code: 'validation_failed', errors: [{ path: 'If-Match' }] });
    }
    // Still capturable: nothing happened.
    expect((await h.request('POST', `/v1/payments/${p.id}/capture`)).status).toBe(200);
  });
});
