import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import { mintToken } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * Disputes end to end, offline (issue 10): a payment with Stripe's test card
 * pm_card_createDispute, captured; the simulated processor opens a dispute; the payment,
 * GET /v1/disputes, the ledger, the activity feed and Socket.IO show it; evidence
 * `winning_evidence` wins it and the ledger reinstates the amount.
 */

interface Change {
  topic: string;
  type: string;
  position: string;
  data: Record<string, unknown>;
}

const CUSTOMER = 'cus_disputed';
const WAIT_MS = 20_000;

let db: TestDatabase;
let service: RunningService;
let mine: string;
let theirs: string;
let admin: string;
let socket: Socket;
const changes: Change[] = [];

beforeAll(async () => {
  db = await createTestDatabase('e2e_disputes');
  service = await startTestService(db.url);
  mine = await mintToken({ scopes: ['payments:read', 'payments:write'], customerId: CUSTOMER });
  theirs = await mintToken({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_someone_else' });
  admin = await mintToken({ scopes: ['admin'], sub: 'e2e-admin' });
  socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token: mine } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('change', (c: Change) => changes.push(c));
}, 60_000);

afterAll(async () => {
  socket?.disconnect();
  await service?.stop();
  await db?.drop();
});

const call = async (path: string, options: { token?: string; method?: string; body?: unknown } = {}) => {
  const res = await fetch(`${service.url}${path}`, {
    method: options.method ?? 'GET',
    headers: { authorization: `Bearer ${options.token ?? mine}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & { data: Record<string, unknown>[] } };
};

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const balance = async (account: string, minPosition: string) => {
  const res = await call(`/v1/ledger/accounts/${account}/balance?currency=USD&minPosition=${minPosition}`, { token: admin });
  expect(res.status).toBe(200);
  return (res.body.data[0]?.balance as number | undefined) ?? 0;
};

describe('a disputed payment, end to end (simulated processor)', () => {
  let paymentId: string;
  let disputeId: string;
  let openedAt: string;

  it('pm_card_createDispute is approved; after capture the processor opens a dispute that every outlet shows', async () => {
    const created = await call('/v1/payments', { method: 'POST', body: { customerId: CUSTOMER, amount: 5_000, currency: 'USD', paymentMethod: 'pm_card_createDispute', captureMethod: 'manual' } });
    expect(created.status).toBe(201);
    paymentId = created.body.id as string;
    // The topic policy finds the payment's owner in the payments read model: let it catch up first.
    expect((await call(`/v1/payments/${paymentId}?minPosition=${created.headers.get('ledger-position')!}`)).status).toBe(200);
    expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: [`payment:${paymentId}`, `customer:${CUSTOMER}`] })).toEqual({ ok: true });

    const captured = await call(`/v1/payments/${paymentId}/capture`, { method: 'POST' });
    expect(captured.status).toBe(200);

    const opened = await until('dispute.created on the payment topic', () => changes.find((c) => c.topic === `payment:${paymentId}` && c.type === 'dispute.created'));
    disputeId = opened.data.id as string;
    openedAt = opened.position;
    expect(disputeId).toMatch(/^dp_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(opened.data).toMatchObject({ object: 'dispute', paymentId, customerId: CUSTOMER, amount: 5_000, currency: 'USD', status: 'needs_response', reason: 'fraudulent', feeAmount: 1_500 });

    const dispute = await call(`/v1/disputes/${disputeId}?minPosition=${openedAt}`);
    expect(dispute.status).toBe(200);
    expect(dispute.body).toEqual(opened.data);
    expect(dispute.headers.get('etag')).toBe('"0"');

    const payment = await call(`/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ id: paymentId, status: 'succeeded', amountCaptured: 5_000, disputes: [{ id: disputeId, status: 'needs_response', amount: 5_000, reason: 'fraudulent' }] });
    const list = await call(`/v1/disputes?paymentId=${paymentId}&status=needs_response`);
    expect(list.body.data.map((d) => d.id)).toEqual([disputeId]);

    expect(await balance('disputed_funds', openedAt)).toBe(5_000);
    expect(await balance('dispute_fees', openedAt)).toBe(1_500);
    expect(await balance('provider_clearing', openedAt)).toBe(5_000 - 5_000 - 1_500);

    const feed = await until('the dispute.opened entry', async () => {
      const res = await call(`/v1/customers/${CUSTOMER}/activity`);
      return res.body.data.find((e) => e.type === 'dispute.opened');
    });
    expect(feed).toMatchObject({ paymentId, disputeId, amount: 5_000, currency: 'USD', summary: 'Payment disputed (fraudulent): 50.00 USD, awaiting a response, 50.00 USD withheld' });
  }, 60_000);

  it('a disputed charge cannot be refunded (as Stripe refuses): the refund fails and nothing leaves the ledger', async () => {
    const refund = await call('/v1/refunds', { token: admin, method: 'POST', body: { paymentId, amount: 1_000 } });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ status: 'failed', failureReason: 'charge_disputed' });
    const payment = await call(`/v1/payments/${paymentId}?minPosition=${refund.headers.get('ledger-position')!}`);
    expect(payment.body).toMatchObject({ status: 'succeeded', amountRefunded: 0 });
    expect(await balance('refunds', refund.headers.get('ledger-position')!)).toBe(0);
  });

  it('another customer sees no dispute, and may not submit evidence', async () => {
    expect((await call(`/v1/disputes/${disputeId}`, { token: theirs })).status).toBe(404);
    expect((await call(`/v1/disputes?paymentId=${paymentId}`, { token: theirs })).body.data).toEqual([]);
    expect((await call(`/v1/disputes?customerId=${CUSTOMER}`, { token: theirs })).status).toBe(403);
    const refused = await call(`/v1/disputes/${disputeId}/evidence`, { token: theirs, method: 'POST', body: { text: 'winning_evidence' } });
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('dispute_not_found');
    expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: [`dispute:${disputeId}`] })).toEqual({ ok: true });
    const intruder = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token: theirs } });
    try {
      await new Promise<void>((resolve, reject) => {
        intruder.once('connect', () => resolve());
        intruder.once('connect_error', reject);
      });
      expect(await intruder.timeout(5_000).emitWithAck('subscribe', { topics: [`dispute:${disputeId}`] })).toMatchObject({ ok: false });
    } finally {
      intruder.disconnect();
    }
  });

  it('winning_evidence wins the dispute: the amount is reinstated, the fee stays', async () => {
    const won = await call(`/v1/disputes/${disputeId}/evidence`, { method: 'POST', body: { text: 'winning_evidence' } });
    expect(won.status).toBe(200);
    expect(won.body).toMatchObject({ id: disputeId, status: 'won', revision: '1' });
    const position = won.headers.get('ledger-position');
    expect(position).toMatch(/^\d+\.\d+$/);

    expect(await balance('disputed_funds', position!)).toBe(0);
    expect(await balance('chargebacks', position!)).toBe(0);
    expect(await balance('dispute_fees', position!)).toBe(1_500);
    expect(await balance('provider_clearing', position!)).toBe(5_000 - 1_500);

    const change = await until('dispute.updated on the dispute topic', () => changes.find((c) => c.topic === `dispute:${disputeId}` && c.type === 'dispute.updated'));
    expect(change.data).toMatchObject({ status: 'won' });
    expect((await call(`/v1/payments/${paymentId}?minPosition=${position}`)).body.disputes).toEqual([{ id: disputeId, status: 'won', amount: 5_000, reason: 'fraudulent' }]);
    await until('the dispute.won entry', async () => (await call(`/v1/customers/${CUSTOMER}/activity`)).body.data.find((e) => e.type === 'dispute.won'));

    const again = await call(`/v1/disputes/${disputeId}/evidence`, { method: 'POST', body: { text: 'losing_evidence' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('dispute_not_accepting_evidence');
  }, 60_000);

  it('a payment with another card is never disputed', async () => {
    const created = await call('/v1/payments', { method: 'POST', body: { customerId: CUSTOMER, amount: 700, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'automatic' } });
    const id = created.body.id as string;
    // The processor's reaction has run past this capture once a later disputed capture is seen.
    const other = await call('/v1/payments', { method: 'POST', body: { customerId: CUSTOMER, amount: 900, currency: 'USD', paymentMethod: 'pm_card_createDispute', captureMethod: 'automatic' } });
    await until('the second dispute', async () => ((await call(`/v1/disputes?paymentId=${other.body.id as string}`)).body.data.length === 1 ? true : undefined));
    expect((await call(`/v1/disputes?paymentId=${id}`)).body.data).toEqual([]);
    expect((await call(`/v1/payments/${id}`)).body).not.toHaveProperty('disputes');
  }, 60_000);
});
