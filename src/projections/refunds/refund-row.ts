import type { RefundStatus, RefundView } from '../../application/refunds/refund-view.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { PaymentId, RefundId } from '../../domain/ids.js';
import type { RefundReason } from '../../domain/refund/events.js';
import { isoOf } from '../row-values.js';

/**
 * A row of `refunds` as the driver hands it back (bigint and timestamptz as strings or
 * Dates, depending on the type parsers). Only the projection writes the table, from typed
 * views; the CHECK constraints guard the enumerations and the status rules too.
 */
export interface RefundRow {
  readonly id: RefundId;
  readonly payment_id: PaymentId;
  readonly customer_id: string;
  readonly amount: string | number;
  readonly currency: CurrencyCode;
  readonly status: RefundStatus;
  readonly reason: RefundReason | null;
  readonly failure_reason: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly revision: string | number;
  readonly created_at: Date | string;
  readonly updated_at: Date | string;
}

/**
 * The table and the indexes its list queries need. Every list is newest first by id (ids are
 * time-ordered, compared bytewise), with at most one equality filter leading:
 *   GET /v1/payments/:id/refunds, ?paymentId=  -> refunds_payment_id_id
 *   ?customerId= (and every customer-scoped list) -> refunds_customer_id_id
 *   ?status=                                     -> refunds_status_id
 *   no filter                                    -> the primary key
 * Combined filters lead with the most selective index and filter the rest.
 */
export const REFUNDS_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS refunds (
  id text COLLATE "C" PRIMARY KEY,
  payment_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  amount bigint NOT NULL CONSTRAINT refunds_amount_positive CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL
    CONSTRAINT refunds_status_known CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
  reason text
    CONSTRAINT refunds_reason_known CHECK (reason IN ('requested_by_customer', 'duplicate', 'fraudulent')),
  failure_reason text,
  metadata jsonb NOT NULL DEFAULT '{}',
  revision bigint NOT NULL CONSTRAINT refunds_revision_non_negative CHECK (revision >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Only a failed refund says why it failed, and a failed one always does.
  CONSTRAINT refunds_failure_reason_iff_failed CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
);
`;

/** The indexes the list queries need; a rebuild builds them after its replay. */
export const REFUNDS_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS refunds_payment_id_id ON refunds (payment_id, id);
CREATE INDEX IF NOT EXISTS refunds_customer_id_id ON refunds (customer_id, id);
CREATE INDEX IF NOT EXISTS refunds_status_id ON refunds (status, id);
`;

export const REFUNDS_SCHEMA_SQL = `${REFUNDS_TABLE_SQL}${REFUNDS_INDEX_SQL}`;


export function refundViewFromRow(row: RefundRow): RefundView {
  return {
    id: row.id,
    object: 'refund',
    paymentId: row.payment_id,
    customerId: row.customer_id,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    failureReason: row.failure_reason,
    metadata: row.metadata,
    revision: String(row.revision),
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
  };
}
