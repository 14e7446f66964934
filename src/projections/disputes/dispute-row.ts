import type { DisputeView } from '../../application/disputes/dispute-view.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { DisputeStatus, ExistingDispute } from '../../domain/dispute/index.js';
import type { DisputeId, PaymentId } from '../../domain/ids.js';
import { isoOf } from '../row-values.js';

/** A row of `disputes` as the driver hands it back. The processor's ids are kept (the fold needs them), not shown. */
export interface DisputeRow {
  readonly id: DisputeId;
  readonly payment_id: PaymentId;
  readonly customer_id: string;
  readonly amount: string | number;
  readonly currency: CurrencyCode;
  readonly status: DisputeStatus;
  readonly reason: string;
  readonly fee_amount: string | number;
  readonly evidence_due_by: string | null;
  readonly opened_at: string;
  readonly provider_dispute_id: string;
  readonly provider_payment_id: string;
  readonly revision: string | number;
  readonly created_at: Date | string;
  readonly updated_at: Date | string;
}

/**
 * The tables. Lists are newest first by id, with at most one equality filter leading:
 *   ?paymentId= (and a payment's disputes on GET /v1/payments/:id) -> disputes_payment_id_id
 *   ?customerId= (and every customer-scoped list)                   -> disputes_customer_id_id
 *   ?status=                                                         -> disputes_status_id
 * dispute_payment_refs is the processor-id index the dispute handler finds payments by
 * (ProviderPaymentIndex): written from the payment events that carry the processor's id.
 */
export const DISPUTES_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS disputes (
  id text COLLATE "C" PRIMARY KEY,
  payment_id text COLLATE "C" NOT NULL,
  customer_id text NOT NULL,
  amount bigint NOT NULL CONSTRAINT disputes_amount_positive CHECK (amount > 0),
  currency text NOT NULL,
  status text NOT NULL CONSTRAINT disputes_status_known CHECK (status IN
    ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost')),
  reason text NOT NULL,
  fee_amount bigint NOT NULL CONSTRAINT disputes_fee_non_negative CHECK (fee_amount >= 0),
  evidence_due_by text,
  opened_at text NOT NULL,
  provider_dispute_id text NOT NULL,
  provider_payment_id text NOT NULL,
  revision bigint NOT NULL CONSTRAINT disputes_revision_non_negative CHECK (revision >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS dispute_payment_refs (
  provider_payment_id text COLLATE "C" PRIMARY KEY,
  payment_id text COLLATE "C" NOT NULL
);
`;

export const DISPUTES_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS disputes_payment_id_id ON disputes (payment_id, id);
CREATE INDEX IF NOT EXISTS disputes_customer_id_id ON disputes (customer_id, id);
CREATE INDEX IF NOT EXISTS disputes_status_id ON disputes (status, id);
`;

export function disputeViewFromRow(row: DisputeRow): DisputeView {
  return {
    id: row.id,
    object: 'dispute',
    paymentId: row.payment_id,
    customerId: row.customer_id,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    feeAmount: Number(row.fee_amount),
    evidenceDueBy: row.evidence_due_by,
    openedAt: row.opened_at,
    revision: String(row.revision),
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
  };
}

export const disputeStateOfRow = (row: DisputeRow): ExistingDispute => ({
  exists: true,
  disputeId: row.id,
  paymentId: row.payment_id,
  customerId: row.customer_id,
  amount: Number(row.amount),
  currency: row.currency,
  providerDisputeId: row.provider_dispute_id,
  providerPaymentId: row.provider_payment_id,
  status: row.status,
  reason: row.reason,
  feeAmount: Number(row.fee_amount),
  evidenceDueBy: row.evidence_due_by,
  openedAt: row.opened_at,
});
