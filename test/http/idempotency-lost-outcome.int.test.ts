import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/application/ports/position.js';
import type { ApiResponse, Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * The key store fails after the append (in production: "could not record idempotency
 * outcome: the database system is shutting down"), so a retry finds no stored response and
 * runs the command again with the same derived ids. It must answer what the write answered,
 * not the payment's current state.
 */

const LEASE_MS = 100;
/** Retries while the unrecorded attempt still holds the key (409), a lease apart. */
const MAX_RETRIES = 50;

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_lost_outcome', { idempotency: { leaseMs: LEASE_MS } });
});
afterAll(async () => {
  await h?.close();
});

async function retryUntilFree(send: () => Promise<ApiResponse>): Promise<ApiResponse> {
  for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) {
    const res = await send();
    if (res.status !== 409) return res;
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
  }
  throw new Error(`the key was still in flight after ${MAX_RETRIES} retries`);
}

describe('a keyed command whose outcome the key store could not record', () => {
  it('a create retried after a later capture replays requires_capture with the create\'s ETag and Ledger-Position', async () => {
    const key = 'lost-outcome-create';
    const body = createBody({ captureMethod: 'manual', amount: 19_056 });
    const complete = h.idempotency.complete.bind(h.idempotency);
    h.idempotency.complete = () => Promise.reject(new Error('the database system is shutting down'));
    let first: ApiResponse;
    try {
      first = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    } finally {
      h.idempotency.complete = complete;
    }
    const { rows } = await h.db.pool.query<{ stream_id: string }>(`SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'payment-%'`);
    expect(rows).toHaveLength(1);
    const streamId = rows[0]!.stream_id;
    const id = streamId.slice('payment-'.length);
    // Intent first: the create's answer is its outcome, the event after its request.
    const [, created] = (await h.store.readStream(streamId)).events;

    const capture = await h.request('POST', `/v1/payments/${id}/capture`, { body: {} });
    expect(capture.status).toBe(200);
    expect(capture.payment).toMatchObject({ status: 'succeeded', amountCaptured: 19_056, revision: '3' });

    const retry = await retryUntilFree(() => h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } }));
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.payment).toMatchObject({ id, status: 'requires_capture', amountCapturable: 19_056, amountCaptured: 0, revision: '1' });
    expect(retry.headers.get('etag')).toBe('"1"');
    expect(retry.headers.get('ledger-position')).toBe(formatPosition(created!.position));
    expect(retry.headers.get('location')).toBe(`/v1/payments/${id}`);
    // Whether the first caller heard 201 or a 5xx is the HTTP layer's choice; a 201 it heard
    // is exactly what the retry says.
    if (first.status === 201) expect(retry.text).toBe(first.text);
    expect(await h.countEvents()).toBe(4);
  });
});
