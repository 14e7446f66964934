import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '../../src/application/ports/idempotency-store.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * The first-response promise when the key store fails after the write: the client was told
 * "created", so a retry with the same key and body must be told exactly that again, even if
 * the payment has moved on since (the command handler rebuilds the first response from the
 * log, folded up to that command's own events).
 */

let completeFailures = 0;
let completeCalls = 0;
/** Off: the command runs as on a store that cannot write the answer with its events (EventStoreDB), so complete() must. */
let recordWithAppend = false;
let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_idem_first_response', {
    wrapIdempotency: (store: IdempotencyStore): IdempotencyStore => ({
      get renewEveryMs() {
        return store.renewEveryMs;
      },
      begin: (scope, hash) => store.begin(scope, hash),
      renew: (scope, lease) => store.renew(scope, lease),
      release: (scope, lease) => store.release(scope, lease),
      complete: async (scope, lease, response) => {
        completeCalls++;
        if (completeFailures > 0) {
          completeFailures--;
          throw new Error('Connection terminated unexpectedly');
        }
        return store.complete(scope, lease, response);
      },
    }),
    wrapCommands: (commands) => ({
      create: (input, ctx) =>
        commands.create(input, recordWithAppend || !ctx.idempotency ? ctx : { ...ctx, idempotency: { ...ctx.idempotency, recordPaymentAnswer: undefined } }),
      capture: (id, amount, ctx) => commands.capture(id, amount, ctx),
      cancel: (id, reason, ctx) => commands.cancel(id, reason, ctx),
    }),
  });
});
afterAll(async () => {
  await h?.close();
});

describe('a keyed create whose answer the event store records with its events', () => {
  it('is never completed separately, and a retry gets the same bytes, Ledger-Position included', async () => {
    recordWithAppend = true;
    try {
      const key = `recorded-with-append-${Date.now()}`;
      const body = createBody();
      const calls = completeCalls;
      const first = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(completeCalls).toBe(calls);
      const retry = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.text).toBe(first.text);
      for (const name of ['etag', 'ledger-position', 'location', 'content-type']) {
        expect(retry.headers.get(name), name).toBe(first.headers.get(name));
      }
    } finally {
      recordWithAppend = false;
    }
  });
});

describe('a keyed create whose response could not be stored', () => {
  it('is answered with the first response on retry, byte for byte, even after the payment was captured in between', async () => {
    const key = `first-response-${Date.now()}`;
    const body = createBody({ captureMethod: 'manual' });
    completeFailures = 1;
    const first = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(completeFailures).toBe(0);
    expect(first.payment.status).toBe('requires_capture');

    const captured = await h.request('POST', `/v1/payments/${first.payment.id}/capture`, { body: { amount: 500 } });
    expect(captured.status).toBe(200);
    const events = await h.countEvents();

    const retry = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(first.status);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.json).toEqual(first.json);
    expect(retry.text).toBe(first.text);
    for (const name of ['etag', 'ledger-position', 'location', 'content-type']) {
      expect(retry.headers.get(name), name).toBe(first.headers.get(name));
    }
    expect(await h.countEvents()).toBe(events);

    // And that answer is now the stored one: the next retry replays it from the key store.
    const again = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const row = await h.db.pool.query<{ state: string }>('SELECT state FROM idempotency_keys WHERE key = $1', [key]);
    expect(row.rows[0]!.state).toBe('completed');
  });
});
