import type pg from 'pg';
import type { SqlExecutor, SqlResult } from '../../application/ports/sql.js';

/**
 * The SqlExecutor that projections and read-model queries are written against, over a
 * pg Pool (one statement per pooled connection) or a checked-out client (a transaction).
 */
export function sqlExecutor(target: pg.Pool | pg.ClientBase): SqlExecutor {
  return {
    async query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
      const result = await target.query(text, [...params]);
      return { rows: result.rows as R[], rowCount: result.rowCount };
    },
  };
}
