import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { rebuildActivityFeed } from '../../src/projections/activity/activity-feed-runner.js';
import { ferretDbAvailable, startFerretDb, type RunningFerretDb } from '../support/ferretdb.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * GET /v1/customers/:id/activity and the `activity` realtime changes, through the whole
 * service, once with the PostgreSQL JSONB feed (the default) and once with the MongoDB feed
 * (MONGO_URL pointing at a FerretDB started for this file).
 */

interface Entry { id: string; type: string; position: string; paymentId?: string; amount: number; currency: string; summary: string }
interface Change { topic: string; type: string; position: string; data: Entry }

const FEED_WAIT_MS = 15_000;
const POLL_MS = 50;

function activityFeedSuite(name: string, env: () => Promise<{ env: Record<string, string>; stop: () => Promise<void> }>): void {
  describe(`activity feed through the service (${name})`, () => {
    let db: TestDatabase;
    let service: RunningService;
    let stopBackend: (() => Promise<void>) | undefined;
    let mine: string;
    let theirs: string;
    let unscoped: string;
    let noRead: string;

    beforeAll(async () => {
      const backend = await env();
      stopBackend = backend.stop;
      db = await createTestDatabase('activity_e2e');
      service = await startTestService(db.url, backend.env);
      const keys = service.container.get(TOKENS.ApiKeys);
      const created = await Promise.all([
        keys.create({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_act_mine', name: 'mine', actor: 'test' }),
        keys.create({ scopes: ['payments:read', 'payments:write'], customerId: 'cus_act_theirs', name: 'theirs', actor: 'test' }),
        keys.create({ scopes: ['payments:read'], customerId: null, name: 'unscoped', actor: 'test' }),
        keys.create({ scopes: ['payments:write'], customerId: null, name: 'no read', actor: 'test' }),
      ]);
      const values = created.map((r) => {
        if (!r.ok) throw new Error('could not create keys');
        return r.value.key;
      });
      [mine, theirs, unscoped, noRead] = values as [string, string, string, string];
    });

    afterAll(async () => {
      await service?.stop();
      await db?.drop();
      await stopBackend?.();
    });

    const call = (key: string, method: string, path: string, body?: unknown) =>
      fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    async function timeline(key: string, customer: string, query = ''): Promise<{ status: number; text: string; body: { data: Entry[]; nextCursor: string | null } }> {
      const res = await call(key, 'GET', `/v1/customers/${customer}/activity${query}`);
      const text = await res.text();
      return { status: res.status, text, body: JSON.parse(text) as { data: Entry[]; nextCursor: string | null } };
    }

    async function waitForEntries(customer: string, count: number): Promise<Entry[]> {
      const deadline = Date.now() + FEED_WAIT_MS;
      for (;;) {
        const { body } = await timeline(unscoped, customer, '?limit=100');
        if (body.data.length >= count || Date.now() > deadline) return body.data;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }

    it('records each payment fact newest first, pages with a cursor, and announces each entry once to customer:<id> with the same bytes', async () => {
      const socket = connect(service.url, { transports: ['websocket'], reconnection: false, auth: { token: mine } });
      const changes: Change[] = [];
      const raw: string[] = [];
      socket.on('change', (change: Change) => {
        if (change.type === 'activity') {
          changes.push(change);
          raw.push(JSON.stringify(change.data));
        }
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        expect(await socket.timeout(5_000).emitWithAck('subscribe', { topics: ['customer:cus_act_mine'] })).toEqual({ ok: true });

        const manual = await call(mine, 'POST', '/v1/payments', { customerId: 'cus_act_mine', amount: 1_250, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
        expect(manual.status).toBe(201);
        const { id } = (await manual.json()) as { id: string };
        expect((await call(mine, 'POST', `/v1/payments/${id}/capture`, { amount: 1_000 })).status).toBe(200);
        expect((await call(mine, 'POST', '/v1/payments', { customerId: 'cus_act_mine', amount: 300, currency: 'JPY', paymentMethod: 'pm_card_chargeDeclined' })).status).toBe(201);
        const toCancel = await call(mine, 'POST', '/v1/payments', { customerId: 'cus_act_mine', amount: 70, currency: 'EUR', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
        const canceledId = ((await toCancel.json()) as { id: string }).id;
        const cancel = await call(mine, 'POST', `/v1/payments/${canceledId}/cancel`, {});
        expect(cancel.status).toBe(200);
        // Read your writes: the feed's own checkpoint is waited for, no polling needed.
        const ownWrite = await timeline(mine, 'cus_act_mine', `?minPosition=${cancel.headers.get('ledger-position')}`);
        expect(ownWrite.status).toBe(200);
        expect(ownWrite.body.data.map((e) => e.type)).toEqual(['payment.canceled', 'payment.created', 'payment.failed', 'payment.captured', 'payment.created']);
        expect((await timeline(mine, 'cus_act_mine', '?minPosition=yesterday')).status).toBe(400);
        expect((await call(theirs, 'POST', '/v1/payments', { customerId: 'cus_act_theirs', amount: 5, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(201);

        const entries = await waitForEntries('cus_act_mine', 5);
        expect(entries.map((e) => e.type)).toEqual(['payment.canceled', 'payment.created', 'payment.failed', 'payment.captured', 'payment.created']);
        expect(entries[3]).toMatchObject({ paymentId: id, amount: 1_000, currency: 'USD', summary: 'Payment of 10.00 USD captured' });
        expect(entries[2]!.summary).toMatch(/^Payment of 300 JPY failed: /);
        expect(entries.every((e) => e.paymentId !== undefined)).toBe(true);

        // Paging: two at a time, each page older than the last, no gaps or repeats.
        const seen: Entry[] = [];
        let cursor: string | null = null;
        for (let pages = 0; pages < 5; pages++) {
          const page = await timeline(mine, 'cus_act_mine', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(page.status).toBe(200);
          seen.push(...page.body.data);
          cursor = page.body.nextCursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(entries);

        // Realtime: each entry once, with the bytes GET sends.
        const deadline = Date.now() + FEED_WAIT_MS;
        while (changes.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
        expect(changes.map((c) => c.topic)).toEqual(Array(5).fill('customer:cus_act_mine'));
        const full = await timeline(mine, 'cus_act_mine');
        const getBytes = (JSON.parse(full.text) as { data: unknown[] }).data.map((e) => JSON.stringify(e)).reverse();
        expect(raw).toEqual(getBytes);
        expect(changes.map((c) => c.position)).toEqual(changes.map((c) => c.data.position));
      } finally {
        socket.disconnect();
      }
    });

    it('confines customer-scoped credentials to their own timeline (403), needs payments:read, refuses a forged cursor', async () => {
      // Captured at once (automatic): created, then captured.
      await waitForEntries('cus_act_theirs', 2);
      const other = await timeline(mine, 'cus_act_theirs');
      expect(other.status).toBe(403);
      expect(JSON.parse(other.text)).toMatchObject({ code: 'forbidden' });
      expect((await timeline(theirs, 'cus_act_theirs')).body.data.map((e) => e.type)).toEqual(['payment.captured', 'payment.created']);
      expect((await timeline(unscoped, 'cus_act_theirs')).body.data.map((e) => e.amount)).toEqual([5, 5]);
      expect((await timeline(unscoped, 'cus_nobody')).body).toEqual({ data: [], nextCursor: null });
      expect((await call(noRead, 'GET', '/v1/customers/cus_act_mine/activity')).status).toBe(403);
      const forged = await timeline(mine, 'cus_act_mine', '?cursor=bm9wZQ');
      expect(forged.status).toBe(400);
      expect(JSON.parse(forged.text)).toMatchObject({ code: 'invalid_cursor' });
      expect((await timeline(mine, 'cus_act_mine', '?limit=0')).status).toBe(400);
      expect((await timeline(mine, 'cus_act_mine', '?colour=red')).status).toBe(400);
    });

    it('rebuilds into a fresh generation and switches with the same timeline', async () => {
      const before = await waitForEntries('cus_act_mine', 5);
      const feed = await service.container.getAsync(TOKENS.ActivityFeed);
      const generation = (await feed.state()).live;
      const summary = await rebuildActivityFeed(
        { eventStore: service.container.get(TOKENS.EventStore), feed, leases: service.container.get(TOKENS.ProjectionStore) },
        { holder: 'test-rebuild' },
      );
      expect(summary?.generation).toBeGreaterThan(generation);
      expect((await feed.state()).live).toBe(summary?.generation);
      expect(await waitForEntries('cus_act_mine', 5)).toEqual(before);
      // The live runner follows the switch: a new entry lands in the new generation.
      expect((await call(mine, 'POST', '/v1/payments', { customerId: 'cus_act_mine', amount: 1, currency: 'USD', paymentMethod: 'pm_card_visa' })).status).toBe(201);
      const after = await waitForEntries('cus_act_mine', 7);
      expect(after.slice(2)).toEqual(before);
      expect(after.slice(0, 2).map((e) => e.type)).toEqual(['payment.captured', 'payment.created']);
    });
  });
}

activityFeedSuite('PostgreSQL JSONB', () => Promise.resolve({ env: {}, stop: () => Promise.resolve() }));

describe.runIf(ferretDbAvailable('activity feed e2e (MongoDB)'))('with MONGO_URL', () => {
  activityFeedSuite('MongoDB on FerretDB', async () => {
    const server: RunningFerretDb = await startFerretDb('activity_e2e');
    return { env: { MONGO_URL: server.url }, stop: () => server.stop() };
  });
});

describe('a MONGO_URL where nothing answers', () => {
  it('fails the start with one line naming MONGO_URL', async () => {
    const db = await createTestDatabase('activity_no_mongo');
    try {
      const started = startTestService(db.url, { MONGO_URL: 'mongodb://127.0.0.1:1/ledger' });
      await expect(started).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringMatching(/activity feed's store did not answer .*MONGO_URL/) });
    } finally {
      await db.drop();
    }
  });
});
