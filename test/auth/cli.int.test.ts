import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/infrastructure/auth/jwt-verifier.js';
import { cliUser } from '../../src/infrastructure/cli/cli-actor.js';
import { DEVELOPMENT_JWT_SECRET } from '../../src/infrastructure/config/config.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { CLI_TIMEOUT_MS, NO_DATABASE, ledger } from '../cli/run-ledger.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { TEST_SECRET } from './support.js';

const PEPPER = 'cli-test-pepper';

let db: TestDatabase;
let eventStore: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('auth_cli');
  eventStore = new PostgresEventStore(db.pool);
});

afterAll(async () => {
  await eventStore?.close();
  await db?.drop();
});

describe('ledger token create', () => {
  it('prints only the token, needs no database, and the token verifies', async () => {
    const run = await ledger(['token', 'create', '--scope', 'payments:read', '--customer', 'cus_7', '--ttl', '15m', '--sub', 'ci-bot'], {
      DATABASE_URL: NO_DATABASE,
      AUTH_JWT_SECRET: TEST_SECRET,
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const now = new Date();
    const result = await new JwtVerifier({ secret: TEST_SECRET }).verify(lines[0]!, now);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.value).toMatchObject({ actor: 'jwt:ci-bot', kind: 'jwt', customerId: 'cus_7', scopes: new Set(['payments:read']) });
    const ttl = result.value.expiresAt!.getTime() - now.getTime();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
  });

  it('falls back to the development secret with a warning on stderr, never on stdout', async () => {
    const run = await ledger(['token', 'create', '--scope', 'payments:read'], { DATABASE_URL: NO_DATABASE });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/INSECURE: AUTH_JWT_SECRET not set/);
    expect(run.stderr).not.toContain(DEVELOPMENT_JWT_SECRET);
    const result = await new JwtVerifier({ secret: DEVELOPMENT_JWT_SECRET }).verify(run.stdout.trim(), new Date());
    expect(result.ok && result.value.actor).toBe(`jwt:${cliUser()}`);
  });

  it('exits 2 with the reason on stderr for bad arguments, and refuses production without a key', { timeout: CLI_TIMEOUT_MS }, async () => {
    const bad = [['--scope', 'payments:delete'], [], ['--scope', 'admin', '--customer', 'cus_1'], ['--scope', 'payments:read', '--ttl', '90d'], ['--scope', 'payments:read', '--bogus']];
    const [production, ...runs] = await Promise.all([
      ledger(['token', 'create', '--scope', 'payments:read'], { DATABASE_URL: NO_DATABASE, NODE_ENV: 'production' }),
      ...bad.map((args) => ledger(['token', 'create', ...args], { DATABASE_URL: NO_DATABASE, AUTH_JWT_SECRET: TEST_SECRET })),
    ]);
    for (const [i, run] of runs.entries()) {
      expect({ code: run.code, stdout: run.stdout }, bad[i]!.join(' ')).toEqual({ code: 2, stdout: '' });
      // One line naming the command, its reason and where its usage is.
      expect(run.stderr, bad[i]!.join(' ')).toMatch(/^ledger token create: [^\n]+ \(see 'ledger token create --help'\)\n$/);
    }
    expect(production.code).toBe(1);
    expect(production.stdout).toBe('');
    expect(production.stderr).toMatch(/AUTH_JWT_SECRET/);
  });
});

describe('ledger keys and projections', () => {
  it('creates (printing the key once), lists (never the secret), revokes, and audits as cli:<user>', { timeout: CLI_TIMEOUT_MS }, async () => {
    const env = { DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, AUTH_API_KEY_PEPPER: PEPPER };
    const created = await ledger(['keys', 'create', '--scope', 'payments:read,refunds:write', '--customer', 'cus_9', '--name', 'billing job'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    const [, id, secret] = /^lk_([0-9a-f]{16})_(.+)$/.exec(key) ?? [];
    expect(id).toBeDefined();
    expect(created.stderr).toContain(`created API key ${id}`);
    expect(created.stderr).not.toContain(secret);

    const [listed, table] = await Promise.all([ledger(['keys', 'list', '--json'], env), ledger(['keys', 'list'], env)]);
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as { id: string; name: string; scopes: string[]; customerId: string; createdBy: string; revokedAt: string | null }[];
    expect(keys).toEqual([expect.objectContaining({ id, name: 'billing job', scopes: ['payments:read', 'refunds:write'], customerId: 'cus_9', createdBy: `cli:${cliUser()}`, revokedAt: null })]);
    expect(listed.stdout).not.toContain(secret!);
    expect(table.stdout).toContain(id);
    expect(table.stdout).not.toContain(secret!);

    expect(await ledger(['keys', 'revoke', id!], env)).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    const [again, missing] = await Promise.all([ledger(['keys', 'revoke', id!], env), ledger(['keys', 'revoke', 'ffffffffffffffff'], env)]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already revoked/);
    expect(missing.code).toBe(1);

    const stream = await eventStore.readStream(`audit-apikey-${id}`);
    expect(stream.events.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['ApiKeyCreated', `cli:${cliUser()}`],
      ['ApiKeyRevoked', `cli:${cliUser()}`],
    ]);
  });

  it('records a rebuild and an audit of a projection with the CLI actor', { timeout: CLI_TIMEOUT_MS }, async () => {
    const env = { DATABASE_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET };
    expect((await ledger(['projections', 'rebuild', 'payments'], env)).code).toBe(0);
    expect((await ledger(['projections', 'audit', 'payments'], env)).code).toBe(0);
    const stream = await eventStore.readStream('audit-projection-payments');
    expect(stream.events.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['ProjectionRebuilt', `cli:${cliUser()}`],
      ['ProjectionAudited', `cli:${cliUser()}`],
    ]);
    expect(stream.events[0]!.data).toMatchObject({ projection: 'payments', processed: expect.any(Number), checkpoint: expect.any(String) });
    expect(stream.events[1]!.data).toMatchObject({ projection: 'payments', matches: true });
  });
});
