import type { ListPaymentsQuery, PaymentPage, PaymentQueries, InvalidCursor } from '../../application/ports/payment-queries.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { Result } from '../../domain/result.js';
import { isPaymentId } from '../../domain/ids.js';
import { err, ok } from '../../domain/result.js';
import { projectionSchema } from '../projection.js';
import { decodeIdCursor, encodeIdCursor } from '../id-cursor.js';
import type { PaymentRow } from './payment-row.js';
import { paymentViewFromRow } from './payment-row.js';

// Queries run on an ordinary pool, not inside the runner's search_path, so they name the
// live schema. A rebuild renames schemas in one transaction; this name always means live.
const PAYMENTS_TABLE = `${projectionSchema('payments')}.payments`;

const GET_PAYMENT = `SELECT * FROM ${PAYMENTS_TABLE} WHERE id = $1`;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Reads the payments read model. Newest first, keyset pagination on the time-ordered id. */
export class SqlPaymentQueries implements PaymentQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async get(id: string): Promise<PaymentView | undefined> {
    const result = await this.sql.query<PaymentRow>(GET_PAYMENT, [id]);
    const row = result.rows[0];
    return row ? paymentViewFromRow(row) : undefined;
  }

  async list(query: ListPaymentsQuery): Promise<Result<PaymentPage, InvalidCursor>> {
    let before: string | undefined;
    if (query.cursor !== undefined) {
      before = decodeIdCursor(query.cursor, isPaymentId);
      if (before === undefined) return err({ code: 'invalid_cursor', message: 'the cursor is not one this service issued' });
    }
    const limit = pageSize(query.limit);
    // Only the filters given become predicates, so each shape of query can use its index
    // (customer_id, id) or (status, id), or the primary key, and stop after limit + 1 rows.
    const where: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.customerId !== undefined) where.push(`customer_id = ${bind(query.customerId)}`);
    if (query.status !== undefined) where.push(`status = ${bind(query.status)}`);
    if (before !== undefined) where.push(`id < ${bind(before)}`);
    const text = `SELECT * FROM ${PAYMENTS_TABLE}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${bind(limit + 1)}`;
    const result = await this.sql.query<PaymentRow>(text, params);
    const rows = result.rows.slice(0, limit);
    const last = rows[rows.length - 1];
    return ok({
      data: rows.map(paymentViewFromRow),
      nextCursor: result.rows.length > limit && last ? encodeIdCursor(last.id) : null,
    });
  }
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}
