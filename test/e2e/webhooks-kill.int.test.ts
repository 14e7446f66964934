import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader } from '../support/service.js';
import type { Receiver } from '../webhooks/support/receiver.js';
import { startReceiver } from '../webhooks/support/receiver.js';
import type { ChildService } from './support/child-service.js';
import { startChildService } from './support/child-service.js';

/*
 * kill -9 of the service while webhook deliveries are in flight: after a restart every
 * event reaches every endpoint at least once (deduplicated by the event id, the set is
 * exactly the events that happened), in order per endpoint. The fan-out's rows commit with
 * its checkpoint; a claim that died with its process lapses after its lease
 * (WEBHOOK_TIMEOUT_MS + 5 s) and the delivery is sent again.
 */

const PAYMENTS = 20;
const RECEIVER_DELAY_MS = 150;
const ENV = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' };

let db: TestDatabase;
let receiver: Receiver;
let first: ChildService | undefined;
let second: ChildService | undefined;

beforeAll(async () => {
  db = await createTestDatabase('webhooks_kill');
  receiver = await startReceiver();
  for (const path of ['/all', '/succeeded']) receiver.on(path, () => new Promise<number>((resolve) => setTimeout(() => resolve(200), RECEIVER_DELAY_MS)));
  first = await startChildService(db.url, ENV);
}, 90_000);

afterAll(async () => {
  await Promise.all([first?.kill('SIGKILL'), second?.kill('SIGTERM')]);
  await receiver?.close();
  await db?.drop();
});

async function post(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await authHeader()) }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as Record<string, unknown>;
}

const idsOn = (path: string): string[] => receiver.onPath(path).map((r) => (JSON.parse(r.body) as { id: string }).id);

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the service killed (-9) mid-delivery', () => {
  it('loses no webhook: after a restart each endpoint has every event at least once, in order', async () => {
    await post(first!.url, '/v1/webhook-endpoints', { url: `${receiver.url}/all`, events: ['*'] });
    await post(first!.url, '/v1/webhook-endpoints', { url: `${receiver.url}/succeeded`, events: ['payment.succeeded'] });
    for (let i = 0; i < PAYMENTS; i++) await post(first!.url, '/v1/payments', { customerId: 'cus_kill', amount: 100 + i, currency: 'USD', paymentMethod: 'pm_card_visa' });

    // Some delivered, more in flight (the receiver takes its time answering), most not yet sent.
    await waitFor(() => receiver.onPath('/all').length >= 4, 20_000);
    await first!.kill('SIGKILL');
    const atKill = receiver.received.length;
    expect(atKill).toBeLessThan(2 * PAYMENTS);

    second = await startChildService(db.url, ENV);
    const { rows } = await db.pool.query<{ id: string }>(`SELECT event_id::text AS id FROM events WHERE event_type = 'PaymentCaptured' ORDER BY transaction_id, global_position`);
    const expected = rows.map((r) => `evt_${r.id.replaceAll('-', '')}`);
    expect(expected).toHaveLength(PAYMENTS);
    await waitFor(() => new Set(idsOn('/all')).size === PAYMENTS && new Set(idsOn('/succeeded')).size === PAYMENTS, 45_000);

    for (const path of ['/all', '/succeeded']) {
      const got = idsOn(path);
      expect(new Set(got)).toEqual(new Set(expected));
      // In order: the first arrival of each event follows the log (a re-send repeats, never overtakes).
      expect([...new Set(got)]).toEqual(expected);
    }
  }, 120_000);
});
