import type { InvalidCursor } from '../../application/ports/payment-queries.js';
import type { ListRefundsQuery, RefundPage, RefundQueries } from '../../application/ports/refund-queries.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import { isRefundId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { ok } from '../../domain/result.js';
import { keysetList } from '../keyset-list.js';
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
    // Indexes: refund-row.ts names one per filter; combined filters lead with the first given.
    const page = await keysetList<RefundRow>(this.sql, {
      table: REFUNDS_TABLE,
      filters: FILTERS.map(([field, column]) => [column, query[field]] as const),
      cursor: query.cursor,
      isId: isRefundId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(refundViewFromRow), nextCursor: page.value.nextCursor }) : page;
  }
}
