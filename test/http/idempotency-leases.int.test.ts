import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '../../src/application/ports/idempotency-store.js';
import type { Harness } from './support/harness.js';
import { createBody, startHarness } from './support/harness.js';

/*
 * The lease behind an in-flight Idempotency-Key, through the real app and store: short, kept
 * alive by the request that holds it, gone a lease length after its holder stopped (crash,
 * lost database), and announced honestly in Retry-After.
 */

/** Long enough that a loaded machine's slow round trips do not let a held lease lapse between renewals (every 450 ms). */
const LEASE_MS = 1_500;
/** What Retry-After may say with that lease: the time left, rounded up to whole seconds. */
const LEASE_RETRY_AFTER = ['1', '2'];

/** What the wrapped store is told to do wrong next. */
interface Faults {
  createFailures: number;
  completeFailures: number;
  releaseFailures: number;
  renewals: number;
  /** Renewals pretend to succeed without touching the record (so a test can set the lease itself). */
  skipRenewals: boolean;
}

const connectionRefused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function faulty(store: IdempotencyStore, faults: Faults): IdempotencyStore {
  return {
    get renewEveryMs() {
      return store.renewEveryMs;
    },
    begin: (scope, hash) => store.begin(scope, hash),
    renew: async (scope, lease) => {
      faults.renewals++;
      return faults.skipRenewals ? true : store.renew(scope, lease);
    },
    complete: async (scope, lease, response) => {
      if (faults.completeFailures > 0) {
        faults.completeFailures--;
        throw connectionRefused();
      }
      return store.complete(scope, lease, response);
    },
    release: async (scope, lease) => {
      if (faults.releaseFailures > 0) {
        faults.releaseFailures--;
        throw connectionRefused();
      }
      return store.release(scope, lease);
    },
  };
}

let h: Harness;
const faults: Faults = { createFailures: 0, completeFailures: 0, releaseFailures: 0, renewals: 0, skipRenewals: false };
beforeAll(async () => {
  h = await startHarness('http_idem_leases', {
    idempotency: { leaseMs: LEASE_MS },
    wrapIdempotency: (store) => faulty(store, faults),
    wrapCommands: (commands) => ({
      create: async (input, ctx) => {
        if (faults.createFailures > 0) {
          faults.createFailures--;
          throw connectionRefused();
        }
        // A complete() that is to fail must be called: as on a store that cannot record the answer with the events.
        const separateComplete = faults.completeFailures > 0 && ctx.idempotency !== undefined;
        return commands.create(input, separateComplete ? { ...ctx, idempotency: { ...ctx.idempotency, recordPaymentAnswer: undefined } } : ctx);
      },
      capture: (id, amount, ctx) => commands.capture(id, amount, ctx),
      cancel: (id, reason, ctx) => commands.cancel(id, reason, ctx),
    }),
  });
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
const newKey = (): string => `lease-${Date.now()}-${++n}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const post = (key: string, body = createBody()) => h.request('POST', '/v1/payments', { body, headers: { 'idempotency-key': key } });
const paymentStreams = async (): Promise<number> =>
  Number((await h.db.pool.query<{ n: string }>(`SELECT count(DISTINCT stream_id)::text AS n FROM events WHERE stream_id LIKE 'payment-%'`)).rows[0]!.n);

describe('Idempotency-Key leases', () => {
  it('a request that runs for several lease lengths keeps its key by renewing it; retries meanwhile get 409 with the lease left', async () => {
    const key = newKey();
    const renewalsBefore = faults.renewals;
    const gate = h.provider.holdNextAuthorize();
    const first = post(key);
    await gate.entered;

    // Three lease lengths: without renewals the key would have been taken over twice.
    for (const _ of [1, 2, 3, 4, 5, 6]) {
      await sleep(LEASE_MS / 2);
      const during = await post(key);
      expect(during.status).toBe(409);
      expect(during.problem.code).toBe('idempotency_key_in_use');
      // A 1.5 s lease has at most 1.5 s left: rounded up, one or two seconds.
      expect(LEASE_RETRY_AFTER).toContain(during.headers.get('retry-after'));
    }
    expect(faults.renewals - renewalsBefore).toBeGreaterThanOrEqual(4);

    gate.release();
    const done = await first;
    expect(done.status).toBe(201);
    const renewalsAtEnd = faults.renewals;
    const replay = await post(key);
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(done.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // The timer is the request's: it stopped with it.
    await sleep(LEASE_MS);
    expect(faults.renewals).toBe(renewalsAtEnd);
  });

  it('a request that finishes before the first renewal renews nothing', async () => {
    const before = faults.renewals;
    expect((await post(newKey())).status).toBe(201);
    await sleep(LEASE_MS);
    expect(faults.renewals).toBe(before);
  });

  it('Retry-After is the lease actually left by the database clock, rounded up', async () => {
    const key = newKey();
    const gate = h.provider.holdNextAuthorize();
    faults.skipRenewals = true;
    const first = post(key);
    await gate.entered;
    try {
      // Stand in for a holder on a long lease (another instance configured so, or one that
      // just renewed): 3.2 s left is announced as 4.
      await h.db.pool.query(`UPDATE idempotency_keys SET locked_until = now() + interval '3200 milliseconds' WHERE key = $1`, [key]);
      const during = await post(key);
      expect(during.status).toBe(409);
      expect(during.headers.get('retry-after')).toBe('4');
    } finally {
      faults.skipRenewals = false;
      gate.release();
    }
    expect((await first).status).toBe(201);
  });

  it('when the outcome cannot be recorded nor the key given back (database gone), the key is free again within one lease', async () => {
    const key = newKey();
    const streams = await paymentStreams();
    faults.completeFailures = 1;
    faults.releaseFailures = 1;
    const first = await post(key);
    // The payment was made: the client hears so, whatever the key store said.
    expect(first.status).toBe(201);
    expect(faults.completeFailures + faults.releaseFailures).toBe(0);
    expect(h.logs.some((l) => l.msg === 'could not record idempotency outcome')).toBe(false);

    const started = Date.now();
    let retry = await post(key);
    const waits: string[] = [];
    while (retry.status === 409 && Date.now() - started < LEASE_MS * 3) {
      waits.push(retry.headers.get('retry-after') ?? 'missing');
      await sleep(50);
      retry = await post(key);
    }
    expect(retry.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 1_000);
    for (const wait of waits) expect(LEASE_RETRY_AFTER).toContain(wait);
    // The retry ran the command again and the handler recognised its own write.
    expect(retry.payment.id).toBe(first.payment.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await paymentStreams()).toBe(streams + 1);
  });

  it('a command that failed because the database was unreachable answers 503 once logged nowhere, and the key is usable within one lease', async () => {
    const key = newKey();
    const streams = await paymentStreams();
    faults.createFailures = 1;
    faults.releaseFailures = 1;
    const failed = await post(key);
    expect(failed.status).toBe(503);
    expect(failed.problem.code).toBe('service_unavailable');
    expect(failed.headers.get('retry-after')).toBe('2');
    expect(failed.text).not.toContain('ECONNREFUSED');
    expect(faults.createFailures + faults.releaseFailures).toBe(0);
    // Not a bug, so no stack trace per request (the pool logs the outage once).
    expect(h.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    expect(h.logs.some((l) => l.level === 'info' && l.msg === 'request')).toBe(true);

    const started = Date.now();
    let retry = await post(key);
    while (retry.status === 409 && Date.now() - started < LEASE_MS * 3) {
      expect(LEASE_RETRY_AFTER).toContain(retry.headers.get('retry-after'));
      await sleep(50);
      retry = await post(key);
    }
    expect(retry.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(LEASE_MS + 1_000);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await paymentStreams()).toBe(streams + 1);
  });
});
