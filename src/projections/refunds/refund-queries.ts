import type { InvalidCursor } from '../../application/ports/payment-queries.js';
import type { ListRefundsQuery, RefundPage, RefundQueries } from '../../application/ports/refund-queries.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import { isRefundId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import { decodeIdCursor, encodeIdCursor } from '../id-cursor.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../payments/payment-queries.js';
import { projectionSchema } from '../projection.js';
import type { RefundRow } from './refund-row.js';
import { refundViewFromRow } from './refund-row.js';
import { REFUNDS_PROJECTION } from './refunds-projection.js';

// The live schema by name, as the payment queries do: a rebuild swaps schemas atomically.
const REFUNDS_TABLE = `${projectionSchema(REFUNDS_PROJECTION)}.refunds`;

const GET_REFUND = `SELECT * FROM ${REFUNDS_TABLE} WHERE id = $1`;

/** The filters a list may combine, in the order they become predicates, with their columns. */
const FILTERS = [
  ['paymentId', 'payment_id'],
  ['customerId', 'customer_id'],
  ['status', 'status'],
] as const satisfies readonly (readonly [keyof ListRefundsQuery, string])[];

/** Reads the refunds read model. Newest first, keyset pagination on the time-ordered id. */
export class SqlRefundQueries implements RefundQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async get(id: string): Promise<RefundView | undefined> {
    const row = (await this.sql.query<RefundRow>(GET_REFUND, [id])).rows[0];
    return row ? refundViewFromRow(row) : undefined;
  }

  async list(query: ListRefundsQuery): Promise<Result<RefundPage, InvalidCursor>> {
    const before = query.cursor === undefined ? undefined : decodeIdCursor(query.cursor, isRefundId);
    if (query.cursor !== undefined && before === undefined) return err({ code: 'invalid_cursor', message: 'the cursor is not one this service issued' });
    const limit = query.limit === undefined || !Number.isFinite(query.limit) ? DEFAULT_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.limit)));
    // Only the filters given become predicates, so each shape of query can use its index
    // (refund-row.ts names which) and stop after limit + 1 rows.
    const params: unknown[] = [];
    const predicates: string[] = [];
    for (const [field, column] of FILTERS) {
      const value = query[field];
      if (value === undefined) continue;
      params.push(value);
      predicates.push(`${column} = $${params.length}`);
    }
    if (before !== undefined) {
      params.push(before);
      predicates.push(`id < $${params.length}`);
    }
    params.push(limit + 1);
    const where = predicates.length > 0 ? ` WHERE ${predicates.join(' AND ')}` : '';
    const result = await this.sql.query<RefundRow>(`SELECT * FROM ${REFUNDS_TABLE}${where} ORDER BY id DESC LIMIT $${params.length}`, params);
    const rows = result.rows.slice(0, limit);
    const last = rows.at(-1);
    return ok({ data: rows.map(refundViewFromRow), nextCursor: result.rows.length > limit && last ? encodeIdCursor(last.id) : null });
  }
}
