import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/application/audit/audit-log.js';
import type { EventStore } from '../../src/application/ports/event-store.js';
import { ApiKeys } from '../../src/infrastructure/auth/api-keys.js';
import { secretHasher } from '../../src/infrastructure/auth/api-key-format.js';
import { JwtIssuer } from '../../src/infrastructure/auth/jwt-issuer.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { buildContainer } from '../../src/infrastructure/container/composition-root.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { allMigrations } from '../../src/infrastructure/postgres/all-migrations.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { TEST_SECRET } from './support.js';

const PEPPER = 'integration-test-pepper';
const TTL_MS = 1_000;
let db: TestDatabase;
let eventStore: PostgresEventStore;
let audit: AuditLog;

const clock = { now: () => new Date() };
const keysWith = (options: { pepper?: string; audit?: AuditLog } = {}) =>
  new ApiKeys(db.pool, options.audit ?? audit, { hasher: secretHasher(options.pepper ?? PEPPER), cacheTtlMs: TTL_MS });

async function createKey(keys: ApiKeys, request: Partial<Parameters<ApiKeys['create']>[0]> = {}) {
  const created = await keys.create({ scopes: ['payments:read'], name: 'test key', actor: 'cli:tester', ...request });
  if (!created.ok) throw new Error(created.error.message);
  return created.value;
}

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

beforeAll(async () => {
  db = await createTestDatabase('auth_api_keys');
  await migrate(db.pool, allMigrations);
  eventStore = new PostgresEventStore(db.pool);
  audit = new AuditLog(eventStore, clock, new SystemIdGenerator());
});

afterAll(async () => {
  await eventStore?.close();
  await db?.drop();
});

describe('API keys on PostgreSQL', () => {
  it('creates a key that authenticates as key:<id> with its grant, and records who created it', async () => {
    const keys = keysWith();
    const created = await createKey(keys, { scopes: ['payments:read', 'payments:write', 'payments:read'], customerId: 'cus_42', actor: 'cli:alice', correlationId: 'corr-create' });
    expect(created.key).toMatch(new RegExp(`^lk_${created.id}_`));
    expect(created.scopes).toEqual(['payments:read', 'payments:write']);

    const result = await keys.authenticate(created.key, new Date());
    expect(result).toEqual({
      ok: true,
      value: { actor: `key:${created.id}`, kind: 'api_key', scopes: new Set(['payments:read', 'payments:write']), customerId: 'cus_42', expiresAt: null },
    });

    const stream = await eventStore.readStream(`audit-apikey-${created.id}`);
    expect(stream.events.map((e) => ({ type: e.type, data: e.data, actor: e.metadata.actor, correlationId: e.metadata.correlationId }))).toEqual([
      { type: 'ApiKeyCreated', data: { keyId: created.id, scopes: ['payments:read', 'payments:write'], customerId: 'cus_42', name: 'test key' }, actor: 'cli:alice', correlationId: 'corr-create' },
    ]);
    const secret = created.key.split('_').slice(2).join('_');
    expect(JSON.stringify(stream.events.map((e) => [e.data, e.metadata]))).not.toContain(secret);
  });

  it('stores only a hash, and list never shows the secret or the hash', async () => {
    const keys = keysWith();
    const created = await createKey(keys);
    const secret = created.key.slice(`lk_${created.id}_`.length);
    const { rows } = await db.pool.query<{ row: string; hash: string }>(`SELECT a::text AS row, encode(secret_hash, 'hex') AS hash FROM api_keys a WHERE id = $1`, [created.id]);
    expect(rows[0]!.row).not.toContain(secret);

    const listed = await keys.list();
    const mine = listed.find((k) => k.id === created.id);
    expect(mine).toEqual({
      id: created.id, name: 'test key', scopes: ['payments:read'], customerId: null,
      createdAt: created.createdAt, createdBy: 'cli:tester', revokedAt: null, revokedBy: null, lastUsedAt: null,
    });
    const json = JSON.stringify(listed);
    expect(json).not.toContain(secret);
    expect(json).not.toContain(rows[0]!.hash);
    expect(json).not.toMatch(/hash|secret/i);
  });

  it('refuses a wrong secret, an unknown id, and anything malformed, with one message', async () => {
    const keys = keysWith();
    const created = await createKey(keys);
    const other = (await createKey(keys)).key.slice(`lk_${created.id}_`.length);
    const now = new Date();
    // Before and after the right key is cached.
    expect(await keys.authenticate(`lk_${created.id}_${other}`, now)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'invalid API key' } });
    expect((await keys.authenticate(created.key, now)).ok).toBe(true);
    expect(await keys.authenticate(`lk_${created.id}_${other}`, now)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'invalid API key' } });
    expect(await keys.authenticate(`lk_0000000000000000_${other}`, now)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'invalid API key' } });
    expect((await keys.authenticate('lk_nope', now)).ok).toBe(false);
  });

  it('refuses a key hashed under another pepper', async () => {
    const created = await createKey(keysWith({ pepper: 'old-pepper' }));
    expect(await keysWith().authenticate(created.key, new Date())).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'invalid API key' } });
  });

  it('revokes: at once on this instance, on others once their cache entry expires, and audits it', async () => {
    const here = keysWith();
    const elsewhere = keysWith();
    const created = await createKey(here);
    const t0 = new Date();
    expect((await here.authenticate(created.key, t0)).ok).toBe(true);
    expect((await elsewhere.authenticate(created.key, t0)).ok).toBe(true);

    const revoked = await here.revoke(created.id, 'cli:bob', 'corr-revoke');
    expect(revoked.ok && revoked.value).toMatchObject({ id: created.id, revokedBy: 'cli:bob' });
    expect(await here.authenticate(created.key, at(t0, 1))).toEqual({ ok: false, error: { code: 'revoked_credentials' } });
    // The other instance still trusts its cached copy, but no longer than the TTL.
    expect((await elsewhere.authenticate(created.key, at(t0, TTL_MS - 1))).ok).toBe(true);
    expect(await elsewhere.authenticate(created.key, at(t0, TTL_MS))).toEqual({ ok: false, error: { code: 'revoked_credentials' } });
    // A wrong secret for a revoked key learns nothing about the revocation.
    expect(await elsewhere.authenticate(created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A'), at(t0, TTL_MS))).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'invalid API key' } });

    const stream = await eventStore.readStream(`audit-apikey-${created.id}`);
    expect(stream.events.map((e) => [e.type, e.metadata.actor])).toEqual([['ApiKeyCreated', 'cli:tester'], ['ApiKeyRevoked', 'cli:bob']]);
    expect(stream.events[1]!.data).toEqual({ keyId: created.id });

    const listed = (await here.list()).find((k) => k.id === created.id);
    expect(listed).toMatchObject({ revokedBy: 'cli:bob' });
    expect(listed?.revokedAt).toBeInstanceOf(Date);
    expect((await here.list({ includeRevoked: false })).some((k) => k.id === created.id)).toBe(false);
  });

  it('answers typed results for revoking twice or revoking nothing', async () => {
    const keys = keysWith();
    const created = await createKey(keys);
    expect((await keys.revoke(created.id, 'cli:a')).ok).toBe(true);
    const again = await keys.revoke(created.id, 'cli:b');
    expect(again.ok ? 'revoked' : again.error).toMatchObject({ code: 'already_revoked', id: created.id, revokedBy: 'cli:a' });
    expect(await keys.revoke('ffffffffffffffff', 'cli:a')).toEqual({ ok: false, error: { code: 'not_found', id: 'ffffffffffffffff' } });
    expect(await keys.revoke('not an id', 'cli:a')).toEqual({ ok: false, error: { code: 'not_found', id: 'not an id' } });
    expect((await eventStore.readStream(`audit-apikey-${created.id}`)).events).toHaveLength(2);
  });

  it('refuses invalid requests before touching anything', async () => {
    const keys = keysWith();
    for (const request of [
      { scopes: [] },
      { scopes: ['payments:delete'] },
      { scopes: ['admin'], customerId: 'cus_1' },
      { customerId: 'bad customer' },
      { name: 'x'.repeat(201) },
      { name: 'line\nbreak' },
      { actor: '' },
    ]) {
      const result = await keys.create({ scopes: ['payments:read'], actor: 'cli:a', ...request });
      expect(result.ok ? 'created' : result.error.code).toBe('invalid_request');
    }
  });

  it('never acts unaudited: an audit append that fails leaves no key and no revocation', async () => {
    const failing = { append: () => Promise.reject(new Error('event store down')) } as unknown as EventStore;
    const unaudited = keysWith({ audit: new AuditLog(failing, clock, new SystemIdGenerator()) });
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0] as { n: number };
    await expect(unaudited.create({ scopes: ['payments:read'], actor: 'cli:a' })).rejects.toThrow('event store down');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0]).toEqual(before);

    const created = await createKey(keysWith());
    await expect(unaudited.revoke(created.id, 'cli:a')).rejects.toThrow('event store down');
    expect((await keysWith().authenticate(created.key, new Date())).ok).toBe(true);
  });

  it('stamps last_used_at at most once a minute', async () => {
    const keys = keysWith();
    const created = await createKey(keys);
    const lastUsed = async () => ((await keys.list()).find((k) => k.id === created.id))!.lastUsedAt;
    const t0 = new Date(Math.floor(Date.now() / 1_000) * 1_000);
    await keys.authenticate(created.key, t0);
    await keys.authenticate(created.key, at(t0, 30_000));
    await keys.flush();
    expect(await lastUsed()).toEqual(t0);
    await keys.authenticate(created.key, at(t0, 61_000));
    await keys.flush();
    expect(await lastUsed()).toEqual(at(t0, 61_000));
    // Another instance without local memory of the stamp: the SQL guard holds too.
    const other = keysWith();
    await other.authenticate(created.key, at(t0, 62_000));
    await other.flush();
    expect(await lastUsed()).toEqual(at(t0, 61_000));
  });
});

describe('the Authenticator from the composition root', () => {
  it('accepts minted JWTs and API keys, and refuses the rest', async () => {
    const config = loadConfig({ DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, AUTH_API_KEY_PEPPER: PEPPER, LOG_LEVEL: 'silent' });
    const container = buildContainer(config, createLogger({ level: 'silent' }), db.pool);
    try {
      const authenticator = container.get(TOKENS.Authenticator);
      const now = new Date();
      const jwt = await JwtIssuer.hs256(TEST_SECRET).mint({ sub: 'svc', scopes: ['ledger:read'], ttlSeconds: 60, now });
      expect(jwt.ok && (await authenticator.authenticate(`Bearer ${jwt.value}`, now))).toMatchObject({ ok: true, value: { actor: 'jwt:svc', kind: 'jwt' } });

      const created = await container.get(TOKENS.ApiKeys).create({ scopes: ['reports:read'], actor: 'test' });
      expect(created.ok && (await authenticator.authenticate(created.value.key, now))).toMatchObject({ ok: true, value: { kind: 'api_key' } });
      expect(await authenticator.authenticate(undefined, now)).toEqual({ ok: false, error: { code: 'missing_credentials' } });
      expect((await authenticator.authenticate('garbage', now)).ok).toBe(false);
    } finally {
      await container.get(TOKENS.EventStore).close();
    }
  });
});
