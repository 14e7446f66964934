import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

interface Change {
  topic: string;
  type: string;
  position: string;
  data: { id: string; status: string; amountCaptured: number; pendingOperation?: unknown };
}

let db: TestDatabase;
let service: RunningService;
let token: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  db = await createTestDatabase('e2e');
  service = await startTestService(db.url);
  token = await adminToken();
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await service?.stop();
  await db?.drop();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });

const get = (path: string) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

function openSocket(): Promise<Socket> {
  const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const subscribe = (socket: Socket, payload: { topics: string[]; since?: string }) =>
  socket.timeout(5_000).emitWithAck('subscribe', payload) as Promise<{ ok: boolean; error?: string }>;

function collect(socket: Socket): Change[] {
  const changes: Change[] = [];
  // Payment changes only: customer topics also carry the activity feed's `activity` changes.
  socket.on('change', (c: Change) => {
    if (c.type.startsWith('payment.')) changes.push(c);
  });
  return changes;
}

async function until<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('one-time payment, end to end over HTTP and Socket.IO', () => {
  it('create → partial capture → query with minPosition → change received', async () => {
    const watcher = await openSocket();
    const customerChanges = collect(watcher);
    expect(await subscribe(watcher, { topics: ['customer:cus_e2e'] })).toEqual({ ok: true });

    const created = await post('/v1/payments', { customerId: 'cus_e2e', amount: 12_345, currency: 'EUR', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    expect(created.status).toBe(201);
    const payment = (await created.json()) as { id: string; status: string };
    expect(payment.status).toBe('requires_capture');
    expect(created.headers.get('etag')).toBe('"1"');
    const createdAt = created.headers.get('ledger-position');
    expect(createdAt).toMatch(/^\d+\.\d+$/);

    const paymentSocket = await openSocket();
    const paymentChanges = collect(paymentSocket);
    // Subscribing with `since` = the create's position: only what came after it.
    expect(await subscribe(paymentSocket, { topics: [`payment:${payment.id}`], since: createdAt! })).toEqual({ ok: true });

    const captured = await post(`/v1/payments/${payment.id}/capture`, { amount: 10_000 }, { 'if-match': '"1"' });
    expect(captured.status).toBe(200);
    const position = captured.headers.get('ledger-position')!;
    expect(await captured.json()).toMatchObject({ status: 'succeeded', amountCaptured: 10_000, amountReleased: 2_345 });

    const read = await get(`/v1/payments/${payment.id}?minPosition=${position}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: payment.id, status: 'succeeded', amountCaptured: 10_000, amountCapturable: 0, revision: '3' });
    expect(read.headers.get('etag')).toBe('"3"');

    const change = await until(() => paymentChanges.find((c) => c.data.status === 'succeeded'));
    expect(change).toMatchObject({ topic: `payment:${payment.id}`, type: 'payment.updated', position, data: { id: payment.id, amountCaptured: 10_000 } });
    // Intent first: the capture's request, then its outcome.
    expect(paymentChanges.map((c) => c.data.pendingOperation)).toEqual([{ operation: 'capture', amount: 10_000 }, null]);
    expect(paymentChanges.at(-1)?.position).toEqual(position);

    // The customer topic saw every change, in order: the request (processing), the authorization, the capture's request and outcome.
    await until(() => (customerChanges.length >= 4 ? customerChanges : undefined));
    expect(customerChanges.map((c) => c.data.status)).toEqual(['processing', 'requires_capture', 'requires_capture', 'succeeded']);

    const list = await get(`/v1/payments?customerId=cus_e2e&minPosition=${position}`);
    expect(((await list.json()) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([payment.id]);
  });

  it('a late subscriber with `since` receives every change it missed', async () => {
    const first = await post('/v1/payments', { customerId: 'cus_late', amount: 500, currency: 'JPY', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    const before = first.headers.get('ledger-position')!;
    const { id } = (await first.json()) as { id: string };
    const canceled = await post(`/v1/payments/${id}/cancel`, { reason: 'requested_by_customer' });
    expect(canceled.status).toBe(200);
    const after = canceled.headers.get('ledger-position')!;
    const second = await post('/v1/payments', { customerId: 'cus_late', amount: 700, currency: 'JPY', paymentMethod: 'pm_card_chargeDeclined' });
    expect(((await second.json()) as { status: string }).status).toBe('failed');
    const last = second.headers.get('ledger-position')!;
    // Wait until the read model has everything, then connect as a client that was offline.
    expect((await get(`/v1/payments?customerId=cus_late&minPosition=${last}`)).status).toBe(200);

    const socket = await openSocket();
    const changes = collect(socket);
    expect(await subscribe(socket, { topics: ['customer:cus_late'], since: before })).toEqual({ ok: true });
    // The backlog is delivered before the ack.
    // Intent first: each command's request, then its outcome.
    expect(changes.map((c) => c.data.status)).toEqual(['requires_capture', 'canceled', 'processing', 'failed']);
    expect([changes[1]?.position, changes[3]?.position]).toEqual([after, last]);
  });

  it('reports every projection healthy after the flow', async () => {
    const res = await get(`/v1/admin/projections`);
    const body = (await res.json()) as { data: { name: string; status: string; error: string | null }[] };
    expect(body.data.map((p) => p.name)).toEqual(['activity_realtime', 'billing', 'billing_process', 'disputes', 'ledger', 'payment_intents', 'payments', 'refund_work', 'refunds', 'reports', 'simulated_disputes', 'subscription_metrics', 'webhook_fanout']);
    expect(body.data.filter((p) => p.error !== null)).toEqual([]);
  });
});
