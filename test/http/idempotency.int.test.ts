import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('http_idempotency');
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
const newKey = (): string => `key-${Date.now()}-${++n}`;

const paymentStreams = async (): Promise<number> =>
  Number((await h.db.pool.query<{ n: string }>(`SELECT count(DISTINCT stream_id)::text AS n FROM events WHERE stream_id LIKE 'payment-%'`)).rows[0]!.n);

describe('Idempotency-Key on create', () => {
  it('the same key and body replays the first response byte for byte, with its headers and Idempotent-Replayed', async () => {
    const key = newKey();
    const first = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const events = await h.countEvents();

    // Same body with other key order and whitespace is the same request.
    const rawSame = '{ "paymentMethod": "pm_card_visa", "currency": "USD", "amount": 1999, "customerId": "cus_42" }';
    const again = await h.request('POST', '/v1/payments', {
      rawBody: rawSame,
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    expect(again.status).toBe(201);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    for (const name of ['etag', 'ledger-position', 'location', 'content-type']) {
      expect(again.headers.get(name), name).toBe(first.headers.get(name));
    }
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await h.countEvents()).toBe(events);
  });

  it('replays a stored 4xx outcome too (the declined/unknown-method answer does not change on retry)', async () => {
    const key = newKey();
    const body = createBody({ paymentMethod: 'pm_card_unknown' });
    const first = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(422);
    const again = await h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(422);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(h.provider.authorizeCalls).toBeGreaterThan(0);
  });

  it('the same key with a different body is 422 and writes nothing', async () => {
    const key = newKey();
    expect((await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } })).status).toBe(201);
    const events = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', { body: createBody({ amount: 2000 }), headers: { 'idempotency-key': key } });
    expect(res.status).toBe(422);
    expect(res.problem).toMatchObject({ code: 'idempotency_key_reused', errors: [{ path: 'Idempotency-Key' }] });
    expect(await h.countEvents()).toBe(events);
  });

  it('the same key on another endpoint is 422', async () => {
    const key = newKey();
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }), headers: { 'idempotency-key': key } });
    const res = await h.request('POST', `/v1/payments/${created.payment.id}/capture`, { headers: { 'idempotency-key': key } });
    expect(res.status).toBe(422);
  });

  it('the same key while the first request is in flight is 409 with Retry-After; afterwards it replays', async () => {
    const key = newKey();
    const gate = h.provider.holdNextAuthorize();
    const firstPromise = h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    await gate.entered;

    const during = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(during.status).toBe(409);
    expect(during.problem.code).toBe('idempotency_key_in_use');
    // Retry-After is the time the holder's lease still has (5 s when just claimed or
    // renewed), rounded up: what the database says is left (a renewal in between may have
    // added up to a second since), never more than a lease.
    const leftSeconds = Number(
      (await h.db.pool.query<{ s: string }>(`SELECT ceil(extract(epoch FROM locked_until - now()))::text AS s FROM idempotency_keys WHERE key = $1`, [key])).rows[0]!.s,
    );
    const retryAfter = Number(during.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, leftSeconds - 1));
    expect(retryAfter).toBeLessThanOrEqual(5);
    expect(leftSeconds).toBeGreaterThanOrEqual(3);

    gate.release();
    const first = await firstPromise;
    expect(first.status).toBe(201);
    const after = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(after.status).toBe(201);
    expect(after.text).toBe(first.text);
  });

  it('concurrent requests with one key create exactly one payment', async () => {
    const key = newKey();
    const streamsBefore = await paymentStreams();
    const gate = h.provider.holdNextAuthorize();
    let answered = 0;
    const requests = Array.from({ length: 8 }, () =>
      h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } }).finally(() => answered++),
    );
    await gate.entered;
    // Hold the winner until every other request has been answered: on a loaded machine one may
    // reach the key only after the winner finished, and would then (rightly) get the replay.
    for (let waited = 0; answered < 7 && waited < 100; waited++) await new Promise((r) => setTimeout(r, 50));
    gate.release();
    const responses = await Promise.all(requests);
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(await paymentStreams()).toBe(streamsBefore + 1);

    // And retries after the storm all see the one payment.
    const retries = await Promise.all(Array.from({ length: 4 }, () => h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } })));
    const winner = responses.find((r) => r.status === 201)!;
    for (const r of retries) {
      expect(r.status).toBe(201);
      expect(r.payment.id).toBe(winner.payment.id);
    }
    expect(await paymentStreams()).toBe(streamsBefore + 1);
  });

  it('keys are scoped to their value: two keys, two payments', async () => {
    const a = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': newKey() } });
    const b = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': newKey() } });
    expect(a.payment.id).not.toBe(b.payment.id);
  });

  it('a 5xx is not kept: the key is released and a retry runs the command (with the same derived payment id)', async () => {
    const key = newKey();
    h.provider.unavailable = true;
    let failed;
    try {
      failed = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    } finally {
      h.provider.unavailable = false;
    }
    expect(failed.status).toBe(503);
    expect(failed.problem.code).toBe('provider_unavailable');
    expect(failed.headers.get('retry-after')).toBe('2');
    expect(failed.text).not.toContain('10.0.0.7');

    const retry = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const row = await h.db.pool.query<{ state: string }>('SELECT state FROM idempotency_keys WHERE key = $1', [key]);
    expect(row.rows[0]!.state).toBe('completed');
  });

  it('a key whose record is lost is still safe: the handler recognises its own write by the derived ids', async () => {
    const key = newKey();
    const first = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    // Pretend the record of the completed request was lost after the write but kept its first-seen time.
    await h.db.pool.query(`UPDATE idempotency_keys SET state = 'in_flight', response_status = NULL, response_headers = NULL, response_body = NULL, locked_until = now() - interval '1 second' WHERE key = $1`, [key]);
    const events = await h.countEvents();
    const retry = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(201);
    expect(retry.payment.id).toBe(first.payment.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await h.countEvents()).toBe(events);
  });

  it('rejects a malformed Idempotency-Key with 400', async () => {
    const before = await h.countEvents();
    const res = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': 'x'.repeat(256) } });
    expect(res.status).toBe(400);
    expect(res.problem).toMatchObject({ code: 'validation_failed', errors: [{ path: 'Idempotency-Key' }] });
    expect(await h.countEvents()).toBe(before);
  });

  it('validation failures are not recorded against the key', async () => {
    const key = newKey();
    const bad = await h.request('POST', '/v1/payments', { body: createBody({ amount: -1 }), headers: { 'idempotency-key': key } });
    expect(bad.status).toBe(400);
    const good = await h.request('POST', '/v1/payments', { body: createBody(), headers: { 'idempotency-key': key } });
    expect(good.status).toBe(201);
  });
});

describe('Idempotency-Key on capture and cancel', () => {
  it('a retried capture replays instead of failing as an illegal transition', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
    const key = newKey();
    const path = `/v1/payments/${created.payment.id}/capture`;
    const first = await h.request('POST', path, { body: { amount: 100 }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(200);
    const again = await h.request('POST', path, { body: { amount: 100 }, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(again.headers.get('ledger-position')).toBe(first.headers.get('ledger-position'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('an empty body and {} are the same request', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
    const key = newKey();
    const path = `/v1/payments/${created.payment.id}/cancel`;
    expect((await h.request('POST', path, { headers: { 'idempotency-key': key } })).status).toBe(200);
    const again = await h.request('POST', path, { body: {}, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('a retry with another If-Match is another request (422)', async () => {
    const created = await h.request('POST', '/v1/payments', { body: createBody({ captureMethod: 'manual' }) });
    const key = newKey();
    const path = `/v1/payments/${created.payment.id}/cancel`;
    expect((await h.request('POST', path, { headers: { 'idempotency-key': key, 'if-match': '"1"' } })).status).toBe(200);
    expect((await h.request('POST', path, { headers: { 'idempotency-key': key, 'if-match': '"3"' } })).status).toBe(422);
  });
});
