import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

let db: TestDatabase;
let service: RunningService;
let mine: string;
let theirs: string;

beforeAll(async () => {
  db = await createTestDatabase('customer_scope');
  service = await startTestService(db.url);
  const keys = service.container.get(TOKENS.ApiKeys);
  const a = await keys.create({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_mine', name: 'mine', actor: 'test' });
  const b = await keys.create({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_theirs', name: 'theirs', actor: 'test' });
  if (!a.ok || !b.ok) throw new Error('could not create keys');
  mine = a.value.key;
  theirs = b.value.key;
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const call = (key: string, method: string, path: string, body?: unknown) =>
  fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('a customer-scoped API key, through the whole service', () => {
  it('sees and changes only its own customer’s payments, over HTTP and Socket.IO', async () => {
    const created = await call(theirs, 'POST', '/v1/payments', { customerId: 'cus_theirs', amount: 900, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const position = created.headers.get('ledger-position')!;

    expect((await call(mine, 'GET', `/v1/payments/${id}?minPosition=${position}`)).status).toBe(404);
    expect((await call(theirs, 'GET', `/v1/payments/${id}?minPosition=${position}`)).status).toBe(200);
    expect((await call(mine, 'POST', `/v1/payments/${id}/capture`, {})).status).toBe(404);
    expect((await call(mine, 'POST', '/v1/payments', { customerId: 'cus_theirs', amount: 1, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(403);
    const list = (await (await call(mine, 'GET', `/v1/payments?minPosition=${position}`)).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    expect((await call(mine, 'GET', '/v1/payments?customerId=cus_theirs')).status).toBe(403);
    expect((await call(mine, 'GET', '/v1/admin/projections')).status).toBe(403);
    const events = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE stream_id LIKE 'payment-%'`);
    // The one payment, intent first: its request and its authorization; nothing of the refused calls.
    expect(Number(events.rows[0]!.n)).toBe(2);

    const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token: mine } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const other = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_theirs'] })) as { ok: boolean; error?: string };
      expect(other).toMatchObject({ ok: false });
      expect(other.error).toMatch(/^forbidden/);
      const theirPayment = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: [`payment:${id}`] })) as { ok: boolean };
      expect(theirPayment.ok).toBe(false);
      expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_mine'] })).toEqual({ ok: true });
    } finally {
      socket.disconnect();
    }

    const anonymous = connect(service.url, { transports: ['websocket'], reconnection: false });
    const refused = await new Promise<Error>((resolve) => anonymous.once('connect_error', resolve));
    expect(refused.message).toMatch(/^unauthorized/);
    anonymous.disconnect();
  });
});

describe('a revoked API key', () => {
  it('loses its open Socket.IO connection at its next subscribe', async () => {
    const keys = service.container.get(TOKENS.ApiKeys);
    const created = await keys.create({ scopes: ['payments:read'], customerId: 'cus_revoked', name: 'soon revoked', actor: 'test' });
    if (!created.ok) throw new Error('could not create key');
    const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token: created.value.key } });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_revoked'] })).toEqual({ ok: true });
      const revoked = await keys.revoke(created.value.id, 'test');
      expect(revoked.ok).toBe(true);
      const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      const ack = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_revoked'] })) as { ok: boolean; error?: string };
      expect(ack.ok).toBe(false);
      expect(ack.error).toMatch(/^unauthorized: credential revoked/);
      expect(await disconnected).toBe('io server disconnect');
    } finally {
      socket.disconnect();
    }
  });
});
