import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { formatPosition } from '../../src/application/ports/position.js';
import type { RefundId } from '../../src/domain/ids.js';
import { refundStream, toPaymentId } from '../../src/domain/ids.js';
import type { RefundEvent } from '../../src/domain/refund/events.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { ChangeMessage as Change } from '../../src/infrastructure/realtime/protocol.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { mintToken } from '../http/support/auth.js';
import { newRefundId, writeRefund } from '../http/support/refund-fixtures.js';
import { refundEvents, toNewEvents } from '../projections/support/refund-scenarios.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * `refund:<id>` through the whole service with a real Socket.IO client: a refund's changes
 * reach its refund, payment and customer topics, each `data` byte for byte what
 * GET /v1/refunds/:id answers at that position; customer-scoped connections follow only
 * refunds of their own payments.
 */

let db: TestDatabase;
let service: RunningService;
let store: EventStore;
let admin: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  db = await createTestDatabase('realtime_refund_topics');
  service = await startTestService(db.url);
  store = service.container.get(TOKENS.EventStore);
  admin = await mintToken({ scopes: ['admin'] });
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await service?.stop();
  await db?.drop();
});

async function open(token: string): Promise<{ socket: Socket; changes: Change[] }> {
  const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  sockets.push(socket);
  const changes: Change[] = [];
  socket.on('change', (c: Change) => changes.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, changes };
}

const subscribe = async (socket: Socket, topics: string[]): Promise<{ ok: boolean; error?: string }> =>
  (await socket.timeout(5_000).emitWithAck('subscribe', { topics })) as { ok: boolean; error?: string };

async function createPayment(customerId: string): Promise<string> {
  const res = await fetch(`${service.url}/v1/payments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, amount: 5_000, currency: 'EUR', paymentMethod: 'pm_card_visa' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Bounded poll: a change that never arrives fails the test rather than hanging it. */
async function changesAt(changes: readonly Change[], position: string, count: number, timeoutMs = 5_000): Promise<Change[]> {
  for (let waited = 0; waited <= timeoutMs; waited += 20) {
    // The customer topic also carries the activity feed's entry for the same event: refund changes only.
    const found = changes.filter((c) => c.position === position && c.type.startsWith('refund.'));
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fewer than ${count} changes at ${position} within ${timeoutMs} ms`);
}

async function getText(refundId: string, position: string): Promise<string> {
  const res = await fetch(`${service.url}/v1/refunds/${refundId}?minPosition=${position}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(res.status).toBe(200);
  return res.text();
}

async function append(refundId: RefundId, event: RefundEvent, revision: number): Promise<string> {
  const result = await store.append(refundStream(refundId), toNewEvents([event]), revision === 0 ? 'no_stream' : streamRevision(revision - 1));
  return formatPosition(result.position);
}

describe('refund:<id>', () => {
  it('carries the refund\'s changes, also on its payment\'s and customer\'s topics, data byte for byte the GET body', async () => {
    const paymentId = await createPayment('cus_rt');
    const refundId = newRefundId();
    const { socket, changes } = await open(admin);
    expect(await subscribe(socket, [`refund:${refundId}`, `payment:${paymentId}`, 'customer:cus_rt'])).toEqual({ ok: true });

    const events = refundEvents(refundId, toPaymentId(paymentId), { amount: 1_200, currency: 'EUR', customer: 0, reason: 'fraudulent', outcome: 'failed' }, 'cus_rt');
    // Metadata in an order of its own: the wire form sorts it, everywhere alike.
    const requested = { ...events[0]!, data: { ...events[0]!.data, metadata: { zeta: 'z', a: 'a', 'ü': 'u' } } } as RefundEvent;
    for (const [i, event] of [requested, events[1]!].entries()) {
      const position = await append(refundId, event, i);
      const at = await changesAt(changes, position, 3);
      expect(at.map((c) => c.topic).sort()).toEqual([`customer:cus_rt`, `payment:${paymentId}`, `refund:${refundId}`].sort());
      expect(new Set(at.map((c) => c.type))).toEqual(new Set([i === 0 ? 'refund.created' : 'refund.updated']));
      const body = await getText(refundId, position);
      for (const change of at) expect(JSON.stringify(change.data), `${change.topic} at ${position}`).toBe(body);
    }
    expect(JSON.parse(await getText(refundId, changes.at(-1)!.position))).toMatchObject({ status: 'failed', failureReason: 'expired_or_canceled_card', metadata: { a: 'a', zeta: 'z', ü: 'u' } });
  });

  it('is followed by a customer-scoped credential only for refunds of its own payments', async () => {
    const mine = await createPayment('cus_rt_mine');
    const theirs = await createPayment('cus_rt_theirs');
    const own = await writeRefund(store, mine, 'cus_rt_mine', { amount: 10, currency: 'EUR', reason: null, outcome: 'pending' });
    const other = await writeRefund(store, theirs, 'cus_rt_theirs', { amount: 10, currency: 'EUR', reason: null, outcome: 'pending' });
    // The owner lookup reads the read model: make sure both refunds are in it.
    await getText(other.id, other.positions.at(-1)!);
    await getText(own.id, own.positions.at(-1)!);

    const { socket, changes } = await open(await mintToken({ scopes: ['payments:read'], customerId: 'cus_rt_mine' }));
    const refused = await subscribe(socket, [`refund:${other.id}`]);
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/^forbidden/);
    expect((await subscribe(socket, [`refund:${newRefundId()}`])).error).toMatch(/^forbidden/);
    expect(await subscribe(socket, [`refund:${own.id}`])).toEqual({ ok: true });

    const [, succeeded] = refundEvents(own.id, toPaymentId(mine), { amount: 10, currency: 'EUR', customer: 0, reason: null, outcome: 'succeeded' }, 'cus_rt_mine');
    const position = await append(own.id, succeeded!, 1);
    const [change] = await changesAt(changes, position, 1);
    expect(change).toMatchObject({ topic: `refund:${own.id}`, type: 'refund.updated', data: { id: own.id, status: 'succeeded' } });
  });
});
