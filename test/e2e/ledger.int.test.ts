import { randomUUID } from 'node:crypto';
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMetadata } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { formatPosition } from '../../src/application/ports/position.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { mintToken } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

/*
 * The ledger endpoints and the `ledger` topic through the whole service: payments made over
 * HTTP, refund events appended by hand per the refund contract (src/domain/refund/events.ts,
 * src/domain/payment/refund-events.ts), the real ledger projection in between.
 */

interface Change {
  topic: string;
  type: string;
  position: string;
  data: { eventType: string };
}

let db: TestDatabase;
let service: RunningService;
let token: string;
const sockets: Socket[] = [];
const changes: Change[] = [];
const changeTexts: string[] = [];
let paymentId: string;
let capturePosition: string;
let refundPosition: string;
let lastPosition: string;
const REFUND_ID = 're_01JD0000000000000000000001';

beforeAll(async () => {
  db = await createTestDatabase('e2e_ledger');
  service = await startTestService(db.url);
  token = await adminToken();
  const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('change', (c: Change) => {
    changes.push(c);
    changeTexts.push(JSON.stringify(c.data));
  });
  expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['ledger'] })).toEqual({ ok: true });

  const created = await fetch(`${service.url}/v1/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ customerId: 'cus_ledger', amount: 5_000, currency: 'usd'.toUpperCase(), paymentMethod: 'pm_card_visa', captureMethod: 'automatic' }),
  });
  expect(created.status).toBe(201);
  paymentId = ((await created.json()) as { id: string }).id;
  capturePosition = created.headers.get('ledger-position')!;

  // A refund of 1,200 that succeeds, as the refund process would record it.
  const store = service.container.get(TOKENS.EventStore);
  const metadata: EventMetadata = { correlationId: 'test', causationId: null, actor: 'test', occurredAt: new Date().toISOString(), schemaVersion: 1 };
  const ref = { paymentId, customerId: 'cus_ledger', currency: 'USD', refundId: REFUND_ID, amount: 1_200 };
  const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata });
  await store.append(`payment-${paymentId}`, [event('PaymentRefundReserved', { ...ref, reason: null, metadata: {} })], streamRevision(2));
  await store.append(`refund-${REFUND_ID}`, [event('RefundRequested', { ...ref, reason: null, metadata: {} })], 'no_stream');
  refundPosition = formatPosition((await store.append(`refund-${REFUND_ID}`, [event('RefundSucceeded', { ...ref, providerRefundId: 'rf_1' })], streamRevision(0))).position);
  lastPosition = formatPosition((await store.append(`payment-${paymentId}`, [event('PaymentRefundSettled', ref)], streamRevision(3))).position);
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await service?.stop();
  await db?.drop();
});

const get = async (path: string, bearer = token) => {
  const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> & { data: Record<string, unknown>[] } };
};

describe('GET /v1/ledger/accounts', () => {
  it('lists the chart of accounts with kind and normal balance', async () => {
    const res = await get('/v1/ledger/accounts');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'provider_clearing', kind: 'asset', normalBalance: 'debit', active: true }),
        expect.objectContaining({ name: 'revenue', kind: 'revenue', normalBalance: 'credit', active: true }),
        expect.objectContaining({ name: 'refunds', kind: 'contra_revenue', normalBalance: 'debit', active: true }),
        expect.objectContaining({ name: 'refunds_pending', kind: 'liability', normalBalance: 'credit', active: true }),
        expect.objectContaining({ name: 'provider_fees', kind: 'expense', normalBalance: 'debit', active: false }),
        // Invoices and subscriptions post to these (issue 9).
        expect.objectContaining({ name: 'accounts_receivable', kind: 'asset', normalBalance: 'debit', active: true }),
        expect.objectContaining({ name: 'deferred_revenue', kind: 'liability', normalBalance: 'credit', active: true }),
        expect.objectContaining({ name: 'customer_credit', kind: 'liability', normalBalance: 'credit', active: true }),
        expect.objectContaining({ name: 'bad_debt', kind: 'expense', normalBalance: 'debit', active: true }),
      ]),
    );
  });
});

describe('GET /v1/ledger/accounts/:account/balance', () => {
  it('waits for minPosition, accepts a lower-case currency and answers on the normal side', async () => {
    const res = await get(`/v1/ledger/accounts/provider_clearing/balance?currency=usd&minPosition=${lastPosition}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      JSON.stringify({
        object: 'ledger_account_balance',
        account: 'provider_clearing',
        kind: 'asset',
        normalBalance: 'debit',
        asOf: res.body.asOf,
        data: [{ currency: 'USD', debits: 5_000, credits: 1_200, balance: 3_800 }],
      }),
    );
    expect(res.body.asOf).toEqual(expect.stringMatching(/^\d+\.\d+$/));
    const revenue = await get('/v1/ledger/accounts/revenue/balance');
    expect(revenue.body.data).toEqual([{ currency: 'USD', debits: 0, credits: 5_000, balance: 5_000 }]);
    const unused = await get('/v1/ledger/accounts/bank/balance?currency=EUR');
    expect(unused.body.data).toEqual([{ currency: 'EUR', debits: 0, credits: 0, balance: 0 }]);
  });

  it('answers as of a Ledger-Position or a timestamp', async () => {
    const before = await get(`/v1/ledger/accounts/refunds/balance?asOf=${capturePosition}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ asOf: capturePosition, data: [] });
    const after = await get(`/v1/ledger/accounts/refunds/balance?asOf=${refundPosition}`);
    expect(after.body.data).toEqual([{ currency: 'USD', debits: 1_200, credits: 0, balance: 1_200 }]);
    const longAgo = await get(`/v1/ledger/accounts/revenue/balance?asOf=2020-01-01T00:00:00%2B02:00`);
    expect(longAgo.body).toMatchObject({ asOf: '2019-12-31T22:00:00.000Z', data: [] });
  });

  it('an unknown account is 404; a bad asOf or currency is 400', async () => {
    const unknown = await get('/v1/ledger/accounts/petty_cash/balance');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('account_not_found');
    const badAsOf = await get('/v1/ledger/accounts/revenue/balance?asOf=yesterday');
    expect(badAsOf.status).toBe(400);
    expect(badAsOf.body.errors).toEqual([expect.objectContaining({ path: 'asOf' })]);
    const badCurrency = await get('/v1/ledger/accounts/revenue/balance?currency=usdollar');
    expect(badCurrency.status).toBe(400);
    const extra = await get('/v1/ledger/accounts/revenue/balance?side=debit');
    expect(extra.status).toBe(400);
  });
});

describe('GET /v1/ledger/entries', () => {
  it('pages entries newest first, each with its event id, position and postings', async () => {
    const first = await get(`/v1/ledger/entries?paymentId=${paymentId}&limit=2&minPosition=${lastPosition}`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((e) => e.eventType)).toEqual(['PaymentRefundSettled', 'RefundSucceeded']);
    expect(first.body.data[1]).toMatchObject({
      position: refundPosition,
      paymentId,
      refundId: REFUND_ID,
      postings: [
        { account: 'refunds', side: 'debit', amount: 1_200, currency: 'USD' },
        { account: 'provider_clearing', side: 'credit', amount: 1_200, currency: 'USD' },
      ],
    });
    const second = await get(`/v1/ledger/entries?paymentId=${paymentId}&limit=2&cursor=${first.body.nextCursor as string}`);
    expect(second.body.data.map((e) => e.eventType)).toEqual(['PaymentRefundReserved', 'PaymentCaptured']);
    expect(second.body.nextCursor).toBeNull();
    const onRevenue = await get('/v1/ledger/entries?account=revenue');
    expect(onRevenue.body.data.map((e) => e.eventType)).toEqual(['PaymentCaptured']);
    expect((await get('/v1/ledger/entries?to=2020-01-01')).body.data).toEqual([]);
    expect((await get('/v1/ledger/entries?account=petty_cash')).status).toBe(404);
    expect((await get('/v1/ledger/entries?cursor=abc')).body.code).toBe('invalid_cursor');
  });

  it('sends each new entry on the ledger topic, byte for byte as the list shows it', async () => {
    const deadline = Date.now() + 5_000;
    while (changes.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(changes.map((c) => [c.topic, c.type, c.data.eventType])).toEqual([
      ['ledger', 'ledger.entry', 'PaymentCaptured'],
      ['ledger', 'ledger.entry', 'PaymentRefundReserved'],
      ['ledger', 'ledger.entry', 'RefundSucceeded'],
      ['ledger', 'ledger.entry', 'PaymentRefundSettled'],
    ]);
    const listed = JSON.parse((await get(`/v1/ledger/entries?paymentId=${paymentId}`)).text) as { data: unknown[] };
    expect(listed.data.map((e) => JSON.stringify(e)).reverse()).toEqual(changeTexts);
  });
});

describe('GET /v1/ledger/trial-balance', () => {
  it('debits equal credits per currency, now and as of any position', async () => {
    const now = await get(`/v1/ledger/trial-balance?minPosition=${lastPosition}`);
    expect(now.status).toBe(200);
    expect(now.body).toEqual({ object: 'ledger_trial_balance', asOf: expect.stringMatching(/^\d+\.\d+$/), data: [{ currency: 'USD', debits: 8_600, credits: 8_600 }] });
    const then = await get(`/v1/ledger/trial-balance?asOf=${capturePosition}`);
    expect(then.body).toEqual({ object: 'ledger_trial_balance', asOf: capturePosition, data: [{ currency: 'USD', debits: 5_000, credits: 5_000 }] });
  });
});

describe('ledger scope', () => {
  it('needs ledger:read, on a credential not confined to one customer', async () => {
    const reader = await mintToken({ scopes: ['payments:read'], sub: 'reader' });
    const refused = await get('/v1/ledger/trial-balance', reader);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_scope');
    const customer = await mintToken({ scopes: ['ledger:read'], sub: 'cust', customerId: 'cus_ledger' });
    const forbidden = await get('/v1/ledger/accounts', customer);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
    const accountant = await mintToken({ scopes: ['ledger:read'], sub: 'accountant' });
    expect((await get('/v1/ledger/accounts/revenue/balance', accountant)).status).toBe(200);
  });
});
