import type { InvalidCursor } from '../application/ports/payment-queries.js';
import type { SqlExecutor } from '../application/ports/sql.js';
import type { Result } from '../domain/result.js';
import { err, ok } from '../domain/result.js';
import { decodeIdCursor, encodeIdCursor } from './id-cursor.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A page size as asked, bounded: 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

export interface KeysetListQuery {
  /** The live table, schema-qualified (queries run outside the runner's search_path). */
  readonly table: string;
  /** Equality filters as column and value; an undefined value is no filter. */
  readonly filters: readonly (readonly [column: string, value: unknown])[];
  readonly cursor: string | undefined;
  /** Whether a decoded cursor names an id this list could hold. */
  readonly isId: (value: string) => boolean;
  readonly limit: number | undefined;
}

/**
 * One page of an id-keyed read model, newest first (ids are time-ordered and compared
 * bytewise), with keyset pagination on the id. Only the filters given become predicates, so
 * each shape of query can use its `(column, id)` index, or the primary key, and stop after
 * limit + 1 rows.
 */
export async function keysetList<Row extends { readonly id: string }>(
  sql: SqlExecutor,
  query: KeysetListQuery,
): Promise<Result<{ readonly rows: readonly Row[]; readonly nextCursor: string | null }, InvalidCursor>> {
  let before: string | undefined;
  if (query.cursor !== undefined) {
    before = decodeIdCursor(query.cursor, query.isId);
    if (before === undefined) return err({ code: 'invalid_cursor', message: 'the cursor is not one this service issued' });
  }
  const limit = pageSize(query.limit);
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  for (const [column, value] of query.filters) if (value !== undefined) where.push(`${column} = ${bind(value)}`);
  if (before !== undefined) where.push(`id < ${bind(before)}`);
  const text = `SELECT * FROM ${query.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${bind(limit + 1)}`;
  const result = await sql.query<Row>(text, params);
  const rows = result.rows.slice(0, limit);
  const last = rows.at(-1);
  return ok({ rows, nextCursor: result.rows.length > limit && last ? encodeIdCursor(last.id) : null });
}
