import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START, formatPosition } from '../../src/application/ports/position.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

/*
 * A realtime `change` carries the payment (subscription, invoice) exactly as
 * GET /v1/payments/:id (/v1/subscriptions/:id, /v1/invoices/:id) returns it at that
 * position: same keys in the same order, same numbers, same timestamps. Clients cache one
 * and patch it with the other, so "equal as objects" is not enough: the JSON text is compared.
 */

interface Change {
  readonly topic: string;
  readonly type: string;
  readonly position: string;
  readonly data: unknown;
}

let db: TestDatabase;
let service: RunningService;
let token: string;
let socket: Socket;

beforeAll(async () => {
  db = await createTestDatabase('e2e_change_data');
  service = await startTestService(db.url);
  token = await adminToken();
  socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
});
afterAll(async () => {
  socket?.disconnect();
  await service?.stop();
  await db?.drop();
});

const post = async (path: string, body: unknown): Promise<Response> => {
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res;
};

/** The GET body once the read model has `position`, as text: of a payment by its id, or of any path. */
async function getText(idOrPath: string, position: string): Promise<string> {
  const path = idOrPath.startsWith('/') ? idOrPath : `/v1/payments/${idOrPath}`;
  const res = await fetch(`${service.url}${path}?minPosition=${position}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.text();
}

async function changeAt(changes: readonly Change[], position: string, timeoutMs = 5_000): Promise<Change> {
  // Bounded poll: a change that never arrives fails the test rather than hanging it.
  for (let waited = 0; waited <= timeoutMs; waited += 20) {
    // The same position also makes an `activity` change on the customer topic.
    const change = changes.find((c) => c.position === position && c.type.startsWith('payment.'));
    if (change) return change;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no change at ${position} within ${timeoutMs} ms`);
}

describe('change.data is byte for byte the GET body at that position', () => {
  it('for a create (metadata in no particular order), a partial capture, a cancel and a declined payment (failure details)', async () => {
    const changes: Change[] = [];
    socket.on('change', (c: Change) => changes.push(c));
    const ack = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_bytes'] })) as { ok: boolean };
    expect(ack).toEqual({ ok: true });

    // GET answers the newest revision, so each change is compared before the next command.
    const expectSame = async (response: Response): Promise<void> => {
      const position = response.headers.get('ledger-position')!;
      const { id } = (await response.clone().json()) as { id: string };
      const change = await changeAt(changes, position);
      const body = await getText(id, position);
      expect(JSON.stringify(change.data), `${change.type} of ${id} at ${position}`).toBe(body);
      // The command's own answer is that same form: one JSON shape for a payment, whoever serves it.
      expect(await response.clone().text(), `POST answer for ${id} at ${position}`).toBe(body);
    };

    const created = await post('/v1/payments', {
      customerId: 'cus_bytes',
      amount: 12_345,
      currency: 'EUR',
      paymentMethod: 'pm_card_visa',
      captureMethod: 'manual',
      description: 'Order #42 — "naïve" café',
      metadata: { zeta: 'last', a: 'first', orderId: '42', long_key_name: 'x', ünïcode: 'é' },
    });
    await expectSame(created);
    const { id } = (await created.json()) as { id: string };
    await expectSame(await post(`/v1/payments/${id}/capture`, { amount: 10_000 }));

    const other = await post('/v1/payments', { customerId: 'cus_bytes', amount: 500, currency: 'JPY', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    await expectSame(other);
    const otherId = ((await other.json()) as { id: string }).id;
    await expectSame(await post(`/v1/payments/${otherId}/cancel`, { reason: 'duplicate' }));

    await expectSame(await post('/v1/payments', { customerId: 'cus_bytes', amount: 700, currency: 'BHD', paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }));
  });

  it('for a subscription created and its first invoice paid by the billing process: the last change on subscription:<id> and invoice:<id>, and the creation', async () => {
    const changes: Change[] = [];
    socket.on('change', (c: Change) => changes.push(c));
    const created = await post('/v1/subscriptions', {
      customerId: 'cus_bytes_sub',
      price: { amount: 4_999, currency: 'eur', interval: 'month' },
      paymentMethod: 'pm_card_visa',
      metadata: { zeta: 'last', a: 'first', ünïcode: 'é', long_key_name: 'x' },
    });
    const { id } = (await created.clone().json()) as { id: string };
    // Its topics from the start of the feed: the creation, the invoice, the charge, the activation.
    const ack = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: [`subscription:${id}`], since: formatPosition(START) })) as { ok: boolean };
    expect(ack).toEqual({ ok: true });

    // Bounded poll: the billing process issues and charges the invoice after the create answered.
    const until = async (what: string, find: () => Change | undefined, timeoutMs = 10_000): Promise<Change> => {
      for (let waited = 0; waited <= timeoutMs; waited += 20) {
        const found = find();
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${what} within ${timeoutMs} ms`);
    };
    const onTopic = (topic: string, kind: string): Change[] => changes.filter((c) => c.topic === topic && c.type.startsWith(`${kind}.`));
    const activated = await until('activation', () => onTopic(`subscription:${id}`, 'subscription').find((c) => (c.data as { status: string }).status === 'active'));
    const invoiceId = (activated.data as { latestInvoice: string }).latestInvoice;
    expect(invoiceId).toMatch(/^in_/);
    const ack2 = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: [`invoice:${invoiceId}`], since: formatPosition(START) })) as { ok: boolean };
    expect(ack2).toEqual({ ok: true });
    const paid = await until('the paid invoice', () => onTopic(`invoice:${invoiceId}`, 'invoice').find((c) => (c.data as { status: string }).status === 'paid'));

    // Nothing more happens to either until the next period: the last change of each is what GET answers now.
    const lastSubscription = onTopic(`subscription:${id}`, 'subscription').at(-1)!;
    const lastInvoice = onTopic(`invoice:${invoiceId}`, 'invoice').at(-1)!;
    expect(lastSubscription).toBe(activated);
    expect(lastInvoice).toBe(paid);
    const subscriptionBody = await getText(`/v1/subscriptions/${id}`, lastSubscription.position);
    const invoiceBody = await getText(`/v1/invoices/${invoiceId}`, lastInvoice.position);
    expect(JSON.parse(subscriptionBody)).toMatchObject({ status: 'active', latestInvoice: invoiceId, price: { currency: 'EUR' } });
    expect(JSON.parse(invoiceBody)).toMatchObject({ status: 'paid', amountPaid: 4_999, amountDue: 0 });
    expect(JSON.stringify(lastSubscription.data)).toBe(subscriptionBody);
    expect(JSON.stringify(lastInvoice.data)).toBe(invoiceBody);

    // The creation's change is the command's own answer (no invoice yet at that position).
    const creation = onTopic(`subscription:${id}`, 'subscription')[0]!;
    expect(creation).toMatchObject({ type: 'subscription.created', position: created.headers.get('ledger-position') });
    expect(JSON.stringify(creation.data)).toBe(await created.text());
    // Between them, the subscription with its new latest invoice, at the invoice's issue.
    const issued = onTopic(`subscription:${id}`, 'invoice')[0]!;
    expect(issued.type).toBe('invoice.created');
    expect(onTopic(`subscription:${id}`, 'subscription').find((c) => c.position === issued.position)?.data).toMatchObject({ status: 'incomplete', latestInvoice: invoiceId });
  });
});
