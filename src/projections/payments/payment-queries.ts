import type { ListPaymentsQuery, PaymentPage, PaymentQueries, InvalidCursor } from '../../application/ports/payment-queries.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { Result } from '../../domain/result.js';
import { isPaymentId } from '../../domain/ids.js';
import { ok } from '../../domain/result.js';
import { projectionSchema } from '../projection.js';
import { keysetList } from '../keyset-list.js';
import type { PaymentRow } from './payment-row.js';
import { paymentViewFromRow } from './payment-row.js';

// Queries run on an ordinary pool, not inside the runner's search_path, so they name the
// live schema. A rebuild renames schemas in one transaction; this name always means live.
const PAYMENTS_TABLE = `${projectionSchema('payments')}.payments`;

const GET_PAYMENT = `SELECT * FROM ${PAYMENTS_TABLE} WHERE id = $1`;

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../keyset-list.js';

/** Reads the payments read model. Newest first, keyset pagination on the time-ordered id. */
export class SqlPaymentQueries implements PaymentQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async get(id: string): Promise<PaymentView | undefined> {
    const result = await this.sql.query<PaymentRow>(GET_PAYMENT, [id]);
    const row = result.rows[0];
    return row ? paymentViewFromRow(row) : undefined;
  }

  async list(query: ListPaymentsQuery): Promise<Result<PaymentPage, InvalidCursor>> {
    // Indexes: (customer_id, id), (status, id), or the primary key (payment-row.ts).
    const page = await keysetList<PaymentRow>(this.sql, {
      table: PAYMENTS_TABLE,
      filters: [
        ['customer_id', query.customerId],
        ['status', query.status],
      ],
      cursor: query.cursor,
      isId: isPaymentId,
      limit: query.limit,
    });
    return page.ok ? ok({ data: page.value.rows.map(paymentViewFromRow), nextCursor: page.value.nextCursor }) : page;
  }
}
