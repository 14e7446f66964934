import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/application/audit/audit-log.js';
import * as format from '../../src/infrastructure/auth/api-key-format.js';
import { ApiKeyIdCollisions, ApiKeys } from '../../src/infrastructure/auth/api-keys.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { allMigrations } from '../../src/infrastructure/postgres/all-migrations.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';

// The only way to make fresh ids collide: hand out ids the test chooses.
const ids: string[] = [];
vi.mock('../../src/infrastructure/auth/api-key-format.js', async (importOriginal) => {
  const actual = await importOriginal<typeof format>();
  return {
    ...actual,
    newApiKey: () => {
      const fresh = actual.newApiKey();
      const id = ids.shift() ?? fresh.id;
      return { id, secret: fresh.secret, plaintext: `lk_${id}_${fresh.secret}` };
    },
  };
});

let db: TestDatabase;
let eventStore: PostgresEventStore;
let keys: ApiKeys;
const request = { scopes: ['payments:read'], name: 'collision', actor: 'cli:tester' };

beforeAll(async () => {
  db = await createTestDatabase('auth_key_collisions');
  await migrate(db.pool, allMigrations);
  eventStore = new PostgresEventStore(db.pool);
  keys = new ApiKeys(db.pool, new AuditLog(eventStore, { now: () => new Date() }, new SystemIdGenerator()), { hasher: format.secretHasher('pepper') });
});

afterAll(async () => {
  await eventStore?.close();
  await db?.drop();
});

describe('API key ids that collide', () => {
  it('retries with a fresh id, and after MAX_CREATE_ATTEMPTS collisions in a row fails loudly, leaving nothing behind', async () => {
    ids.push('00000000000000aa');
    const first = await keys.create(request);
    expect(first).toMatchObject({ ok: true, value: { id: '00000000000000aa' } });

    // Two collisions, then a fresh id: created.
    ids.push('00000000000000aa', '00000000000000aa', '00000000000000bb');
    expect(await keys.create(request)).toMatchObject({ ok: true, value: { id: '00000000000000bb' } });

    // Three in a row: a bug to surface, not a result.
    ids.push('00000000000000aa', '00000000000000bb', '00000000000000aa', '00000000000000cc');
    await expect(keys.create(request)).rejects.toBeInstanceOf(ApiKeyIdCollisions);
    expect(ids).toEqual(['00000000000000cc']);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM api_keys ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['00000000000000aa', '00000000000000bb']);
  });
});
