import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA_SQL, POSTINGS_IN_STATEMENT } from '../../src/projections/ledger/ledger-schema.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * The postings' balance check runs after every INSERT into ledger_postings, inside the
 * projection's batch. It must read only the entries the statement touched: a plan that
 * reads the whole table made each batch cost as much as the ledger was big, and a rebuild
 * of a 1M-event log quadratic. Counted with the transaction's own table statistics.
 */

const EXISTING_ENTRIES = 5_000;

async function rowsRead(client: pg.ClientBase): Promise<Map<string, number>> {
  const { rows } = await client.query<{ relname: string; read: string }>(
    `SELECT relname, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS read
       FROM pg_stat_xact_user_tables WHERE schemaname = 'rm_ledger' ORDER BY relname`,
  );
  return new Map(rows.map((r) => [r.relname, Number(r.read)]));
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('ledger_checks');
  await db.pool.query(`CREATE SCHEMA rm_ledger`);
  const client = await db.pool.connect();
  try {
    await client.query(`SET search_path = rm_ledger`);
    await client.query(LEDGER_SCHEMA_SQL);
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description)
       SELECT md5(g::text)::uuid, 'Manual', g, g, now(), 'seed' FROM generate_series(1, $1) g`,
      [EXISTING_ENTRIES],
    );
    await client.query(
      `INSERT INTO ledger_postings (entry_id, line, account, currency, side, amount, position_commit, position_prepare, occurred_at)
       SELECT md5(g::text)::uuid, l, CASE l WHEN 0 THEN 'provider_clearing' ELSE 'revenue' END, 'USD',
              CASE l WHEN 0 THEN 'debit' ELSE 'credit' END, 100, g, g, now()
         FROM generate_series(1, $1) g, generate_series(0, 1) l`,
      [EXISTING_ENTRIES],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE ledger_entries; ANALYZE ledger_postings');
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('the ledger balance check', () => {
  it('reads the entries a postings statement touched, not the whole ledger', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
      await client.query(
        `INSERT INTO rm_ledger.ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description)
         SELECT id, 'Manual', 1000000 + ord, 0, now(), 'probe' FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
        [ids],
      );
      // Pending statistics of earlier transactions of this session may still be counted: a difference.
      const before = await rowsRead(client);
      await client.query(
        `INSERT INTO rm_ledger.ledger_postings (entry_id, line, account, currency, side, amount, position_commit, position_prepare, occurred_at)
         SELECT id, l, CASE l WHEN 0 THEN 'provider_clearing' ELSE 'revenue' END, 'USD', CASE l WHEN 0 THEN 'debit' ELSE 'credit' END, 7, 0, 0, now()
           FROM unnest($1::uuid[]) AS t(id), generate_series(0, 1) l`,
        [ids],
      );
      const after = await rowsRead(client);
      await client.query('COMMIT');
      for (const [table, read] of after) expect(read - (before.get(table) ?? 0), `rows of ${table} read by the check`).toBeLessThan(100);
      // The books' tables (invoices, invoice payments) are none of the check's business.
      const readFrom = [...after].filter(([table, read]) => read > (before.get(table) ?? 0)).map(([table]) => table);
      expect(readFrom.filter((table) => table !== 'ledger_entries' && table !== 'ledger_postings')).toEqual([]);
      expect(readFrom).toContain('ledger_postings');
    } finally {
      client.release();
    }
  });

  it('with the writer\'s setting, refuses an entry without postings at the end of its statement', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('${POSTINGS_IN_STATEMENT}', 'on', true)`);
      await expect(
        client.query(
          `INSERT INTO rm_ledger.ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description)
           VALUES ($1, 'Manual', 2000000, 0, now(), 'bare')`,
          [crypto.randomUUID()],
        ),
      ).rejects.toThrow(/has no postings/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('replaces the per-entry deferred check of a ledger made before the statement-level one', async () => {
    const client = await db.pool.connect();
    try {
      await client.query(`SET search_path = rm_ledger`);
      await client.query(`DROP TRIGGER ledger_entries_balanced ON ledger_entries`);
      await client.query(`CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
                          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance()`);
      await client.query(LEDGER_SCHEMA_SQL);
      const { rows } = await client.query<{ def: string }>(
        `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = 'ledger_entries'::regclass AND tgname IN ('ledger_entries_balanced', 'ledger_entries_posted') ORDER BY tgname`,
      );
      expect(rows.map((r) => r.def)).toEqual([expect.stringContaining(`WHEN ((current_setting('${POSTINGS_IN_STATEMENT}'`), expect.stringContaining('FOR EACH STATEMENT')]);
    } finally {
      await client.query('RESET search_path');
      client.release();
    }
  });
});
