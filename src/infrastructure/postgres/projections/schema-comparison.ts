import pg from 'pg';
import type { SchemaDifferences } from '../../../application/ports/projection-store.js';

const LIST_TABLES = `
SELECT table_schema, table_name FROM information_schema.tables
 WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'`;

/**
 * Compares every table of two schemas row by row, as jsonb (so column order and types
 * with no equality operator do not matter). A table on one side only counts all its rows.
 */
export async function compareSchemas(client: pg.ClientBase, live: string, rebuilt: string, sampleSize = 10): Promise<SchemaDifferences> {
  const tables = await client.query<{ table_schema: string; table_name: string }>(LIST_TABLES, [[live, rebuilt]]);
  const has = (schema: string, table: string): boolean => tables.rows.some((t) => t.table_schema === schema && t.table_name === table);
  const names = [...new Set(tables.rows.map((t) => t.table_name))].sort();
  const rowsOf = (schema: string, table: string): string =>
    has(schema, table)
      ? `SELECT to_jsonb(t) AS row FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} t`
      : `SELECT NULL::jsonb AS row WHERE false`;

  let count = 0;
  const sample: { table: string; side: 'live' | 'rebuilt'; row: unknown }[] = [];
  for (const table of names) {
    const l = rowsOf(live, table);
    const r = rowsOf(rebuilt, table);
    const diff = await client.query<{ side: 'live' | 'rebuilt'; row: unknown; total: string }>(
      `SELECT d.side, d.row, count(*) OVER () AS total FROM (
         SELECT 'live' AS side, x.row FROM (${l} EXCEPT ALL ${r}) x
         UNION ALL
         SELECT 'rebuilt' AS side, y.row FROM (${r} EXCEPT ALL ${l}) y
       ) d
       LIMIT $1`,
      [Math.max(1, sampleSize)],
    );
    const first = diff.rows[0];
    if (!first) continue;
    count += Number(first.total);
    for (const row of diff.rows) if (sample.length < sampleSize) sample.push({ table, side: row.side, row: row.row });
  }
  return { count, sample };
}
