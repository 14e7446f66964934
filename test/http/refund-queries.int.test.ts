import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/application/ports/event-store.js';
import type { RefundView } from '../../src/application/refunds/refund-view.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';
import { mintToken } from './support/auth.js';
import type { WrittenRefund } from './support/refund-fixtures.js';
import { writeRefund } from './support/refund-fixtures.js';

/*
 * GET /v1/refunds/:id, GET /v1/payments/:id/refunds and GET /v1/refunds through the whole
 * service: real payments made over HTTP, refund events appended to the event store as the
 * contract describes them, the refunds projection running, queries waiting with minPosition.
 */

let db: TestDatabase;
let service: RunningService;
let store: EventStore;
let admin: string;
let alice: string;
let bob: string;

interface Page {
  readonly data: RefundView[];
  readonly nextCursor: string | null;
}

async function get(path: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function createPayment(customerId: string, amount: number): Promise<string> {
  const res = await fetch(`${service.url}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, amount, currency: 'usd', paymentMethod: 'pm_card_visa' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

let alicePayment: string;
let bobPayment: string;
/** Oldest first. */
let aliceRefunds: WrittenRefund[];
let bobRefund: WrittenRefund;
/** A position after every fixture: waiting for it makes the fixtures visible. */
let last: string;

beforeAll(async () => {
  db = await createTestDatabase('http_refund_queries');
  service = await startTestService(db.url);
  store = service.container.get(TOKENS.EventStore);
  admin = await mintToken({ scopes: ['admin'] });
  alice = await mintToken({ scopes: ['payments:read'], customerId: 'cus_alice' });
  bob = await mintToken({ scopes: ['payments:read'], customerId: 'cus_bob' });
  alicePayment = await createPayment('cus_alice', 10_000);
  bobPayment = await createPayment('cus_bob', 5_000);
  const base = { currency: 'USD', reason: null } as const;
  aliceRefunds = [
    await writeRefund(store, alicePayment, 'cus_alice', { ...base, amount: 1_000, outcome: 'succeeded', reason: 'requested_by_customer' }),
    await writeRefund(store, alicePayment, 'cus_alice', { ...base, amount: 2_000, outcome: 'failed' }),
    await writeRefund(store, alicePayment, 'cus_alice', { ...base, amount: 500, outcome: 'pending' }),
    await writeRefund(store, alicePayment, 'cus_alice', { ...base, amount: 700, outcome: 'canceled' }),
  ];
  bobRefund = await writeRefund(store, bobPayment, 'cus_bob', { ...base, amount: 300, outcome: 'succeeded' });
  last = bobRefund.positions.at(-1)!;
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const ids = (body: unknown): string[] => (body as Page).data.map((r) => r.id);

describe('GET /v1/refunds/:id', () => {
  it('answers the refund, once the read model has the position asked for, with its revision as ETag', async () => {
    const [succeeded] = aliceRefunds;
    const res = await get(`/v1/refunds/${succeeded!.id}?minPosition=${last}`, admin);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.json).toEqual({
      id: succeeded!.id,
      object: 'refund',
      paymentId: alicePayment,
      customerId: 'cus_alice',
      amount: 1_000,
      currency: 'USD',
      status: 'succeeded',
      reason: 'requested_by_customer',
      failureReason: null,
      metadata: { a: '1', order: 'o-1000' },
      revision: '1',
      createdAt: expect.any(String) as string,
      updatedAt: expect.any(String) as string,
    });
    // Keys in the schema's order, metadata sorted: the wire form.
    expect(res.text.startsWith(`{"id":"${succeeded!.id}","object":"refund","paymentId":`)).toBe(true);
    expect(res.text).toContain('"metadata":{"a":"1","order":"o-1000"}');
    expect((await get(`/v1/refunds/${succeeded!.id}`, admin, { 'if-none-match': '"1"', 'cache-control': 'max-age=0' })).status).toBe(304);
    expect(((await get(`/v1/refunds/${aliceRefunds[1]!.id}`, admin)).json as RefundView)).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card' });
  });

  it('reads its own write: a refund appended just now is there with minPosition', async () => {
    const fresh = await writeRefund(store, bobPayment, 'cus_bob', { amount: 1, currency: 'USD', reason: 'duplicate', outcome: 'pending' });
    const res = await get(`/v1/refunds/${fresh.id}?minPosition=${fresh.positions[0]}`, admin);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'pending', reason: 'duplicate', revision: '0' });
  });

  it('is 404 refund_not_found for an unknown or malformed id, and for another customer\'s refund', async () => {
    for (const path of ['/v1/refunds/re_01JD3Q4V5W6X7Y8Z9A0B1C2D3E', '/v1/refunds/nope', `/v1/refunds/${alicePayment}`]) {
      const res = await get(path, admin);
      expect(res.status, path).toBe(404);
      expect(res.json).toMatchObject({ code: 'refund_not_found' });
    }
    expect((await get(`/v1/refunds/${bobRefund.id}?minPosition=${last}`, alice)).status).toBe(404);
    expect((await get(`/v1/refunds/${bobRefund.id}`, bob)).status).toBe(200);
  });

  it('needs payments:read, and refuses unknown query parameters and a malformed minPosition', async () => {
    const writer = await mintToken({ scopes: ['payments:write', 'refunds:write'] });
    expect((await get(`/v1/refunds/${bobRefund.id}`, writer)).json).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect((await get(`/v1/refunds/${bobRefund.id}?expand=payment`, admin)).json).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await get(`/v1/refunds/${bobRefund.id}?minPosition=soon`, admin)).json).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('GET /v1/payments/:id/refunds', () => {
  it('lists the payment\'s refunds newest first, in pages', async () => {
    const all = await get(`/v1/payments/${alicePayment}/refunds?minPosition=${last}`, admin);
    expect(all.status, all.text).toBe(200);
    expect(ids(all.json)).toEqual(aliceRefunds.map((r) => r.id).reverse());
    expect((all.json as Page).nextCursor).toBeNull();

    const first = await get(`/v1/payments/${alicePayment}/refunds?limit=3`, admin);
    expect(ids(first.json)).toEqual(aliceRefunds.slice(1).map((r) => r.id).reverse());
    const cursor = (first.json as Page).nextCursor!;
    const second = await get(`/v1/payments/${alicePayment}/refunds?limit=3&cursor=${cursor}`, admin);
    expect(ids(second.json)).toEqual([aliceRefunds[0]!.id]);
    expect((second.json as Page).nextCursor).toBeNull();
  });

  it('is 404 for a payment that does not exist or is not the caller\'s; the owner sees its refunds', async () => {
    expect((await get('/v1/payments/pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E/refunds', admin)).json).toMatchObject({ status: 404, code: 'payment_not_found' });
    expect((await get('/v1/payments/nope/refunds', admin)).json).toMatchObject({ status: 404, code: 'payment_not_found' });
    expect((await get(`/v1/payments/${alicePayment}/refunds?minPosition=${last}`, bob)).json).toMatchObject({ status: 404, code: 'payment_not_found' });
    expect(ids((await get(`/v1/payments/${alicePayment}/refunds`, alice)).json)).toHaveLength(4);
  });

  it('refuses an invalid cursor and unknown parameters', async () => {
    expect((await get(`/v1/payments/${alicePayment}/refunds?cursor=forged`, admin)).json).toMatchObject({ status: 400, code: 'invalid_cursor' });
    expect((await get(`/v1/payments/${alicePayment}/refunds?status=pending`, admin)).json).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((await get(`/v1/payments/${alicePayment}/refunds?limit=101`, admin)).json).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('GET /v1/refunds', () => {
  it('lists newest first, filtered by payment, customer and status, with limit 1–100 (default 20) and an opaque cursor', async () => {
    const everything = await get(`/v1/refunds?minPosition=${last}`, admin);
    expect(everything.status).toBe(200);
    const all = ids(everything.json);
    expect(all.slice(-5)).toEqual([bobRefund.id, ...aliceRefunds.map((r) => r.id).reverse()]);
    expect(ids((await get(`/v1/refunds?paymentId=${bobPayment}&status=succeeded`, admin)).json)).toEqual([bobRefund.id]);
    expect(ids((await get('/v1/refunds?customerId=cus_alice&status=failed', admin)).json)).toEqual([aliceRefunds[1]!.id]);
    expect(ids((await get('/v1/refunds?status=canceled', admin)).json)).toEqual([aliceRefunds[3]!.id]);

    const walked: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res = await get(`/v1/refunds?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      walked.push(...ids(res.json));
      cursor = (res.json as Page).nextCursor;
      if (cursor === null) break;
    }
    expect(walked).toEqual(all);

    for (const bad of ['limit=0', 'limit=101', 'limit=1e1', 'status=refunded', 'paymentId=nope', 'customerId=a%20b', 'starting_after=x']) {
      expect((await get(`/v1/refunds?${bad}`, admin)).json, bad).toMatchObject({ status: 400, code: 'validation_failed' });
    }
    expect((await get('/v1/refunds?cursor=forged', admin)).json).toMatchObject({ status: 400, code: 'invalid_cursor' });
    // A payments cursor is not a refunds cursor.
    const paymentsPage = (await get('/v1/payments?limit=1', admin)).json as { nextCursor: string };
    expect((await get(`/v1/refunds?cursor=${paymentsPage.nextCursor}`, admin)).json).toMatchObject({ status: 400, code: 'invalid_cursor' });
  });

  it('confines a customer-scoped credential to its own refunds; naming another customer is 403', async () => {
    const mine = await get(`/v1/refunds?minPosition=${last}`, alice);
    expect(ids(mine.json)).toEqual(aliceRefunds.map((r) => r.id).reverse());
    expect(ids((await get('/v1/refunds?customerId=cus_alice', alice)).json)).toHaveLength(4);
    expect(ids((await get(`/v1/refunds?paymentId=${bobPayment}`, alice)).json)).toEqual([]);
    expect((await get('/v1/refunds?customerId=cus_bob', alice)).json).toMatchObject({ status: 403, code: 'forbidden' });
  });
});
