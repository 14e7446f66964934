import type { Server as HttpServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../src/application/auth/principal.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { realtimeMigrations } from '../../src/infrastructure/postgres/realtime/schema.js';
import { attachRealtime } from '../../src/infrastructure/container/realtime.js';
import { MAX_TOKEN_LENGTH, type RealtimeHandle } from '../../src/infrastructure/realtime/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { createPaymentsTable, insertPayment, ShiftedClock, TestAuthenticator } from './auth-support.js';
import { connectError, insertChanges, listen, pos, sleep, TestClient, tearDownRealtime } from './helpers.js';

// Integration: real PostgreSQL, real Socket.IO server and client, with an authenticator.
// The authenticator is a test double (tokens it issued itself), so these tests exercise
// the realtime module's handshake, topic policy, expiry and refusal handling only.

const READ: Scope[] = ['payments:read'];

describe('realtime with an authenticator', () => {
  let db: TestDatabase | undefined;
  let server: HttpServer | undefined;
  let realtime: RealtimeHandle | undefined;
  let url = '';
  const auth = new TestAuthenticator();
  const clock = new ShiftedClock();
  const clients: TestClient[] = [];
  let lastPosition = 0;
  const next = (): number => (lastPosition += 1);

  const pool = () => {
    if (!db) throw new Error('no database');
    return db.pool;
  };
  const client = async (token: string): Promise<TestClient> => {
    const c = await TestClient.connect(url, { token });
    clients.push(c);
    return c;
  };
  const forbidden = (topic: string) => ({ ok: false, error: `forbidden: not allowed to follow ${topic}` });

  beforeAll(async () => {
    db = await createTestDatabase('realtime_auth');
    await migrate(db.pool, realtimeMigrations);
    await createPaymentsTable(db.pool);
    await insertPayment(db.pool, 'pay_alice_1', 'cus_alice');
    await insertPayment(db.pool, 'pay_bob_1', 'cus_bob');
    ({ server, url } = await listen());
    realtime = attachRealtime(server, { pool: db.pool, retention: false, authenticator: auth, clock });
    await realtime.ready;
  });

  afterEach(() => {
    clock.offsetMs = 0;
  });

  afterAll(() => tearDownRealtime({ clients, realtime, server, db }));

  describe('handshake', () => {
    it('refuses a connection without a token', async () => {
      const error = await connectError(url);
      expect(error.message).toMatch(/^unauthorized: /);
      expect(error.data).toEqual({ code: 'unauthorized', reason: 'missing_credentials' });
      expect((await connectError(url, { token: '' })).data).toEqual({ code: 'unauthorized', reason: 'missing_credentials' });
    });

    it('refuses an unknown token', async () => {
      const error = await connectError(url, { token: 'tok_not_issued' });
      expect(error.message).toBe('unauthorized: invalid token');
      expect(error.data).toEqual({ code: 'unauthorized', reason: 'invalid_credentials' });
    });

    it('refuses a token that is not a string or too long, without asking the authenticator', async () => {
      const before = auth.calls;
      for (const token of [42, { sub: 'x' }, ['a'], 'x'.repeat(MAX_TOKEN_LENGTH + 1)]) {
        const error = await connectError(url, { token });
        expect(error.message).toBe('unauthorized: malformed token');
        expect(error.data).toEqual({ code: 'unauthorized', reason: 'malformed_credentials' });
      }
      expect(auth.calls).toBe(before);
    });

    it('refuses an expired token', async () => {
      const token = auth.issue({ scopes: READ, expiresAt: new Date(Date.now() - 1_000) });
      const error = await connectError(url, { token });
      expect(error.message).toBe('unauthorized: token expired');
      expect(error.data).toEqual({ code: 'unauthorized', reason: 'expired_credentials' });
    });

    it('answers unavailable when the authenticator fails', async () => {
      const error = await connectError(url, { token: TestAuthenticator.THROWING_TOKEN });
      expect(error.message).toMatch(/^unavailable: /);
      expect(error.data).toEqual({ code: 'unavailable' });
    });

    it('connects with a valid token and delivers the changes it may see', async () => {
      const c = await client(auth.issue({ scopes: READ }));
      expect(await c.subscribe({ topics: ['payment:pay_any', 'customer:cus_any'] })).toEqual({ ok: true });
      const at = next();
      await insertChanges(pool(), [{ topic: 'payment:pay_any', at }]);
      await c.waitFor((ch) => ch.length === 1, 'the change');
      expect(c.positions('payment:pay_any')).toEqual([pos(at)]);
    });
  });

  describe('topic policy', () => {
    it('needs payments:read for payment and customer topics, ledger:read for ledger; a malformed topic is invalid_topic, not forbidden', async () => {
      const writer = await client(auth.issue({ scopes: ['payments:write', 'ledger:read'] }));
      expect(await writer.subscribe({ topics: ['payment:pay_x'] })).toEqual(forbidden('payment:pay_x'));
      expect(await writer.subscribe({ topics: ['customer:cus_x'] })).toEqual(forbidden('customer:cus_x'));
      expect(await writer.subscribe({ topics: ['ledger'] })).toEqual({ ok: true });

      const reader = await client(auth.issue({ scopes: READ }));
      expect(await reader.subscribe({ topics: ['ledger'] })).toEqual(forbidden('ledger'));
      // Malformed topics are refused for what they are, before (and whatever) the policy says.
      const malformed: [topic: string, why: string][] = [
        ['subscriptions:sub_1', 'unknown kind of topic'],
        ['foo', 'unknown kind of topic'],
        ['ledger:x', '"ledger" takes no id'],
        ['payment:', '"payment" needs an id'],
        ['customer:cus 1', 'the id must be'],
        ['payment:pay/1', 'the id must be'],
        [`payment:${'p'.repeat(65)}`, 'the id must be'],
        ['x'.repeat(201), 'longer than 200 characters'],
      ];
      // Refusals count towards a disconnect: a fresh connection for every four.
      for (let i = 0; i < malformed.length; i += 4) {
        const c = await client(auth.issue({ scopes: READ }));
        for (const [topic, why] of malformed.slice(i, i + 4)) {
          const ack = await c.subscribe({ topics: [topic] });
          expect(ack, topic).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic: "/) });
          if (!ack.ok) expect(ack.error, topic).toContain(why);
        }
      }
      // Even for a principal who may follow everything, a malformed topic is not forbidden.
      const root = await client(auth.issue({ scopes: ['admin'] }));
      expect(await root.subscribe({ topics: ['ledger', 'payment:'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic: "payment:": /) });

      const admin = await client(auth.issue({ scopes: ['admin'] }));
      expect(await admin.subscribe({ topics: ['payment:pay_x', 'customer:cus_x', 'ledger'] })).toEqual({ ok: true });
    });

    it('lets a customer-scoped token follow its own customer and payments only', async () => {
      const alice = await client(auth.issue({ scopes: READ, customerId: 'cus_alice' }));
      expect(await alice.subscribe({ topics: ['customer:cus_alice'] })).toEqual({ ok: true });
      expect(await alice.subscribe({ topics: ['payment:pay_alice_1'] })).toEqual({ ok: true });
      expect(await alice.subscribe({ topics: ['customer:cus_bob'] })).toEqual(forbidden('customer:cus_bob'));
      expect(await alice.subscribe({ topics: ['payment:pay_bob_1'] })).toEqual(forbidden('payment:pay_bob_1'));
      // An unknown payment gets the same answer as another customer's: ids are not revealed.
      expect(await alice.subscribe({ topics: ['payment:pay_nobody'] })).toEqual(forbidden('payment:pay_nobody'));
      // Customer-scoped principals never see the ledger, whatever their scopes.
      const aliceLedger = await client(auth.issue({ scopes: ['payments:read', 'ledger:read'], customerId: 'cus_alice' }));
      expect(await aliceLedger.subscribe({ topics: ['ledger'] })).toEqual(forbidden('ledger'));

      // Only the allowed topics were joined; a refused subscribe joined nothing.
      expect(await alice.subscribe({ topics: ['customer:cus_alice', 'payment:pay_alice_1', 'payment:pay_bob_1'] })).toEqual(forbidden('payment:pay_bob_1'));
      const at = next();
      await insertChanges(pool(), [
        { topic: 'payment:pay_bob_1', at },
        { topic: 'customer:cus_bob', at },
        { topic: 'payment:pay_nobody', at },
        { topic: 'payment:pay_alice_1', at },
        { topic: 'customer:cus_alice', at },
      ]);
      await alice.waitFor((ch) => ch.length === 2, "alice's changes");
      await sleep(100);
      expect(alice.changes.map((ch) => ch.topic)).toEqual(['payment:pay_alice_1', 'customer:cus_alice']);
    });

    it('a payment created after a refusal can be followed once its row exists', async () => {
      const carol = await client(auth.issue({ scopes: READ, customerId: 'cus_carol' }));
      expect(await carol.subscribe({ topics: ['payment:pay_carol_new'] })).toEqual(forbidden('payment:pay_carol_new'));
      await insertPayment(pool(), 'pay_carol_new', 'cus_carol');
      // "Not found" is remembered for a second at most.
      await sleep(1_100);
      expect(await carol.subscribe({ topics: ['payment:pay_carol_new'] })).toEqual({ ok: true });
    });
  });

  describe('expiry', () => {
    it('refuses a subscribe once the token has expired, and disconnects', async () => {
      const token = auth.issue({ scopes: READ, expiresAt: new Date(Date.now() + 10 * 60_000) });
      const c = await client(token);
      expect(await c.subscribe({ topics: ['payment:pay_exp'] })).toEqual({ ok: true });
      clock.offsetMs = 11 * 60_000;
      expect(await c.subscribe({ topics: ['payment:pay_exp_2'] })).toEqual({ ok: false, error: 'unauthorized: token expired' });
      expect(await c.disconnected()).toBe('io server disconnect');
      expect(c.errors).toEqual([expect.stringMatching(/^unauthorized: token expired/)]);

      // Reconnecting re-authenticates: the old token is refused, a fresh one is accepted.
      await expect(c.reconnect({ token })).rejects.toMatchObject({ message: 'unauthorized: token expired' });
      await c.reconnect({ token: auth.issue({ scopes: READ, expiresAt: new Date(Date.now() + 60 * 60_000) }) });
      expect(await c.subscribe({ topics: ['payment:pay_exp'] })).toEqual({ ok: true });
    });

    it('disconnects a socket when its token expires while connected', async () => {
      const c = await client(auth.issue({ scopes: READ, expiresAt: new Date(Date.now() + 500) }));
      expect(await c.subscribe({ topics: ['payment:pay_soon'] })).toEqual({ ok: true });
      expect(c.connected).toBe(true);
      expect(await c.disconnected(5_000)).toBe('io server disconnect');
      expect(c.errors).toEqual([expect.stringMatching(/^unauthorized: token expired/)]);
    });

    it('keeps a socket whose token does not expire (API key) connected', async () => {
      const c = await client(auth.issue({ scopes: READ, expiresAt: null }));
      clock.offsetMs = 365 * 24 * 3_600_000;
      expect(await c.subscribe({ topics: ['payment:pay_key'] })).toEqual({ ok: true });
      expect(c.connected).toBe(true);
    });
  });

  describe('persistent rule-breaking', () => {
    it('disconnects after 10 refused requests, with a final error', async () => {
      const c = await client(auth.issue({ scopes: READ, customerId: 'cus_alice' }));
      for (let i = 0; i < 9; i++) {
        expect(await c.subscribe({ topics: [`customer:cus_other_${i}`] })).toEqual(forbidden(`customer:cus_other_${i}`));
      }
      expect(c.connected).toBe(true);
      // Allowed requests do not count, and neither do they reset the count.
      await sleep(300); // a token for the extra request (burst 10, 5 per second)
      expect(await c.subscribe({ topics: ['customer:cus_alice'] })).toEqual({ ok: true });
      expect(c.connected).toBe(true);
      expect(await c.subscribe({ topics: ['Not A Topic'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic/) });
      expect(await c.disconnected()).toBe('io server disconnect');
      expect(c.errors).toEqual([expect.stringMatching(/^too_many_errors: /)]);
    });

    it('counts unknown events as refusals', async () => {
      const c = await client(auth.issue({ scopes: READ }));
      const ack = (await c.socket.timeout(5_000).emitWithAck('hello', { x: 1 })) as { ok: boolean; error?: string };
      expect(ack).toEqual({ ok: false, error: expect.stringMatching(/^invalid_request: unknown event/) });
      for (let i = 0; i < 9; i++) c.socket.emit('nonsense', i);
      expect(await c.disconnected()).toBe('io server disconnect');
      expect(c.errors).toEqual([expect.stringMatching(/^too_many_errors: /)]);
    });

    it('a burst over the rate limit is refused, and a flood disconnects', async () => {
      const c = await client(auth.issue({ scopes: READ }));
      const acks = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => c.subscribe({ topics: [`payment:flood_${i}`] })));
      const answered = acks.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      expect(answered.filter((a) => a.ok).length).toBeGreaterThanOrEqual(10);
      expect(answered.filter((a) => !a.ok && a.error.startsWith('rate_limited')).length).toBeGreaterThanOrEqual(1);
      expect(await c.disconnected()).toBe('io server disconnect');
      expect(c.errors).toEqual([expect.stringMatching(/^too_many_errors: /)]);
    });
  });
});

describe('realtime with an authenticator: degraded lookups and an extra policy', () => {
  let db: TestDatabase | undefined;
  let server: HttpServer | undefined;
  let realtime: RealtimeHandle | undefined;
  let url = '';
  const auth = new TestAuthenticator();
  const clients: TestClient[] = [];

  beforeAll(async () => {
    // No payments read model here: every owner lookup fails.
    db = await createTestDatabase('realtime_auth_degraded');
    await migrate(db.pool, realtimeMigrations);
    ({ server, url } = await listen());
    realtime = attachRealtime(server, {
      pool: db.pool,
      retention: false,
      authenticator: auth,
      authorizeTopic: (_socket, topic) => topic !== 'customer:cus_blocked',
      limits: { requestBurst: 50 },
    });
    await realtime.ready;
  });

  afterAll(() => tearDownRealtime({ clients, realtime, server, db }));

  it('answers unavailable when the owner lookup fails, and does not count it against the client', async () => {
    const c = await TestClient.connect(url, { token: auth.issue({ scopes: READ, customerId: 'cus_dave' }) });
    clients.push(c);
    for (let i = 0; i < 12; i++) {
      expect(await c.subscribe({ topics: [`payment:pay_${i}`] })).toMatchObject({ ok: false, error: expect.stringMatching(/^unavailable: /) });
    }
    expect(c.connected).toBe(true);
    // Lookups are needed only for customer-scoped principals.
    const staff = await TestClient.connect(url, { token: auth.issue({ scopes: READ }) });
    clients.push(staff);
    expect(await staff.subscribe({ topics: ['payment:pay_1'] })).toEqual({ ok: true });
  });

  it('an extra authorizeTopic narrows the default policy', async () => {
    const c = await TestClient.connect(url, { token: auth.issue({ scopes: ['admin'] }) });
    clients.push(c);
    expect(await c.subscribe({ topics: ['customer:cus_blocked'] })).toEqual({ ok: false, error: 'forbidden: not allowed to follow customer:cus_blocked' });
    expect(await c.subscribe({ topics: ['customer:cus_fine', 'ledger'] })).toEqual({ ok: true });
    expect(await c.subscribe({ topics: ['unknown_kind:x'] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid_topic/) });
  });
});
