import { describe, expect, it } from 'vitest';
import type { SqlExecutor, SqlResult } from '../../src/application/ports/sql.js';
import { PostgresIdempotencyStore } from '../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';

/** A database in which the key's row is always gone by the time anyone looks (pruned under the claim). */
function vanishingRows(): { sql: SqlExecutor; statements: string[] } {
  const statements: string[] = [];
  const sql: SqlExecutor = {
    query<R>(text: string): Promise<SqlResult<R>> {
      statements.push(text.includes('INSERT INTO idempotency_keys') ? 'claim' : 'inspect');
      return Promise.resolve({ rows: [], rowCount: 0 });
    },
  };
  return { sql, statements };
}

describe('PostgresIdempotencyStore.begin, bounded', () => {
  it('gives up after a bounded number of claims with a typed "contended" rather than looping or throwing', async () => {
    const { sql, statements } = vanishingRows();
    const store = new PostgresIdempotencyStore(sql);
    expect(await store.begin({ actor: 'a', key: 'k' }, 'h')).toEqual({ kind: 'contended' });
    expect(statements).toEqual(['claim', 'inspect', 'claim', 'inspect', 'claim', 'inspect']);
  });

  it('refuses a renewal interval that is not shorter than the lease', () => {
    const { sql } = vanishingRows();
    expect(() => new PostgresIdempotencyStore(sql, { leaseMs: 1_000, renewEveryMs: 1_000 })).toThrow(/renewEveryMs/);
    expect(new PostgresIdempotencyStore(sql, { leaseMs: 1_000 }).renewEveryMs).toBe(300);
  });
});
