import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_queries', { limits: { minPositionWaitMs: 300 } });
});
afterAll(async () => {
  await h?.close();
});

describe('GET /v1/payments/:id', () => {
  it('answers the payment with its ETag', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
    const res = await h.request('GET', `/v1/payments/${created.payment.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.payment).toMatchObject({ id: created.payment.id, status: 'requires_capture' });
  });

  it('If-None-Match with the current ETag is 304', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody() });
    // fetch adds Cache-Control: no-cache to conditional requests unless told otherwise, which disables the check.
    // Intent first: request (0), authorization (1), capture (2).
    const headers = { 'if-none-match': '"2"', 'cache-control': 'max-age=0' };
    const res = await h.request('GET', `/v1/payments/${created.payment.id}`, { headers });
    expect(res.status).toBe(304);
    const stale = await h.request('GET', `/v1/payments/${created.payment.id}`, { headers: { ...headers, 'if-none-match': '"1"' } });
    expect(stale.status).toBe(200);
  });

  it('an absent payment is a 404 problem; a malformed id too', async () => {
    const absent = await h.request('GET', '/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E');
    expect(absent.status).toBe(404);
    expect(absent.problem).toMatchObject({ code: 'payment_not_found', instance: '/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E' });
    const malformed = await h.request('GET', '/v1/payments/not-an-id');
    expect(malformed.status).toBe(404);
    expect(malformed.problem.code).toBe('payment_not_found');
  });
});

describe('GET /v1/payments', () => {
  it('lists with filters, a default limit of 20, and cursors', async () => {
    const customerId = `cus_list_${Date.now()}`;
    for (let i = 0; i < 3; i++) await h.request('POST', '/v1/payments', { body: createBody({ customerId, amount: 100 + i }) });
    const last = await h.request('POST', '/v1/payments', { body: createBody({ customerId, captureMethod: 'manual' }) });
    // Read models are eventually consistent (here: the event store's visible log, which can
    // trail commits while other transactions on the server are open): read our writes.
    const minPosition = last.headers.get('ledger-position')!;

    const all = await h.request('GET', `/v1/payments?customerId=${customerId}&minPosition=${minPosition}`);
    expect(all.status).toBe(200);
    expect(all.page.data).toHaveLength(4);
    expect(all.page.nextCursor).toBeNull();

    const succeeded = await h.request('GET', `/v1/payments?customerId=${customerId}&status=succeeded`);
    expect(succeeded.page.data.map((p) => p.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const first = await h.request('GET', `/v1/payments?customerId=${customerId}&limit=3`);
    expect(first.page.data).toHaveLength(3);
    expect(first.page.nextCursor).not.toBeNull();
    const second = await h.request('GET', `/v1/payments?customerId=${customerId}&limit=3&cursor=${encodeURIComponent(first.page.nextCursor!)}`);
    expect(second.page.data).toHaveLength(1);
    expect(second.page.nextCursor).toBeNull();
  });

  it('defaults the limit to 20', async () => {
    let minPosition = '';
    for (let i = 0; i < 21; i++) {
      minPosition = (await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_many' }) })).headers.get('ledger-position')!;
    }
    const res = await h.request('GET', `/v1/payments?customerId=cus_many&minPosition=${minPosition}`);
    expect(res.page.data).toHaveLength(20);
    expect(res.page.nextCursor).not.toBeNull();
  });
});

describe('?minPosition=', () => {
  it('waits until the read model has the position, then answers', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody() });
    const position = created.headers.get('ledger-position')!;
    h.readModel.hold();
    setTimeout(() => h.readModel.release(), 100);
    const started = Date.now();
    const res = await h.request('GET', `/v1/payments/${created.payment.id}?minPosition=${position}`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    expect(res.payment.id).toBe(created.payment.id);
  });

  it('lists once the read model is there', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ customerId: 'cus_min' }) });
    const res = await h.request('GET', `/v1/payments?customerId=cus_min&minPosition=${created.headers.get('ledger-position')!}`);
    expect(res.status).toBe(200);
    expect(res.page.data.map((p) => p.id)).toContain(created.payment.id);
  });

  it('times out (bounded) with 503 and Retry-After', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody() });
    h.readModel.hold();
    try {
      const started = Date.now();
      const one = await h.request('GET', `/v1/payments/${created.payment.id}?minPosition=${created.headers.get('ledger-position')!}`);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(one.status).toBe(503);
      expect(one.problem.code).toBe('read_model_behind');
      expect(one.headers.get('retry-after')).toBe('1');
      const list = await h.request('GET', `/v1/payments?minPosition=${created.headers.get('ledger-position')!}`);
      expect(list.status).toBe(503);
    } finally {
      h.readModel.release();
    }
  });

  it('a position the log has not reached yet times out too', async () => {
    const res = await h.request('GET', '/v1/payments?minPosition=18446744073709551615.1');
    expect(res.status).toBe(503);
  });

  it('a malformed position is 400', async () => {
    const res = await h.request('GET', '/v1/payments?minPosition=12');
    expect(res.status).toBe(400);
    expect(res.problem.errors).toEqual([{ path: 'minPosition', message: expect.any(String) }]);
  });
});

describe('GET /v1/admin/projections', () => {
  it('lists projection statuses', async () => {
    const res = await h.request('GET', '/v1/admin/projections');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ data: [{ name: 'payments', version: 1, status: 'running', lag: 0, error: null, failedPosition: null }] });
  });
});
