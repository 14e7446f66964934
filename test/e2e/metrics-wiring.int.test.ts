import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

/*
 * The metrics exist in LedgerMetrics; this proves the composition root feeds them: the
 * event store is measured, the runner reports to the observer, and the pool, Socket.IO and
 * projection and payment request gauges are read at scrape time — through the whole service, as `ledger serve` runs.
 */

let db: TestDatabase;
let service: RunningService;
let token: string;
let socket: Socket;

beforeAll(async () => {
  db = await createTestDatabase('e2e_metrics_wiring');
  service = await startTestService(db.url);
  token = await adminToken();
});
afterAll(async () => {
  socket?.disconnect();
  await service?.stop();
  await db?.drop();
});

/** The value of one sample line, e.g. `ledger_projection_leader{projection="payments"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics of the running service', () => {
  it('counts appends and applied events, and reads leadership, lag, pool and Socket.IO gauges', async () => {
    socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token } });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const ack = (await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_metrics'] })) as { ok: boolean };
    expect(ack).toEqual({ ok: true });

    const created = await fetch(`${service.url}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ customerId: 'cus_metrics', amount: 500, currency: 'USD', paymentMethod: 'pm_card_visa' }),
    });
    expect(created.status).toBe(201);
    const position = created.headers.get('ledger-position')!;
    const { id } = (await created.json()) as { id: string };
    const read = await fetch(`${service.url}/v1/payments/${id}?minPosition=${position}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);

    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(sample(text, 'ledger_event_store_append_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ledger_projection_events_applied_total{projection="payments"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'ledger_projection_leader{projection="payments"}')).toBe(1);
    expect(sample(text, 'ledger_projection_status{projection="payments",status="running"}')).toBe(1);
    expect(sample(text, 'ledger_projection_lag_events{projection="payments"}')).toBe(0);
    expect(sample(text, 'ledger_pg_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'ledger_socketio_connections')).toBe(1);
    expect(sample(text, 'ledger_socketio_subscriptions')).toBe(1);

    // The payment was answered in its request: once the payment_intents projection has seen
    // the answer, nothing waits on the processor. Read, not unwatched: that would be NaN.
    let backlog = text;
    for (const deadline = Date.now() + 10_000; sample(backlog, 'ledger_payment_requests_pending') !== 0 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      backlog = await (await fetch(`${service.url}/metrics`)).text();
    }
    expect(sample(backlog, 'ledger_payment_requests_pending')).toBe(0);
    expect(sample(backlog, 'ledger_payment_request_oldest_age_seconds')).toBe(0);
  });
});
