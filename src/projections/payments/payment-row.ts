import type { PaymentView } from '../../application/payments/payment-view.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { PaymentId } from '../../domain/ids.js';
import type { CancellationReason, CaptureMethod, PaymentFailure, PaymentStatus, PendingOperation, RefundReservationEntry } from '../../domain/payment/index.js';
import { isoOf } from '../row-values.js';

/**
 * A row of `payments` as the driver hands it back. bigint and timestamptz arrive as
 * strings or Dates depending on the driver's type parsers, so both are accepted. Only the
 * projection writes the table, from typed views, so its text columns hold what the types
 * say (the CHECK constraints guard the enumerations too).
 */
export interface PaymentRow {
  readonly id: PaymentId;
  readonly status: PaymentStatus;
  readonly customer_id: string;
  readonly amount: string | number;
  readonly amount_capturable: string | number;
  readonly amount_captured: string | number;
  readonly amount_released: string | number;
  readonly amount_refunded: string | number;
  /** Not part of the view: kept so the fold can settle or release a reservation exactly. */
  readonly refund_reservations: Readonly<Record<string, RefundReservationEntry>>;
  readonly currency: CurrencyCode;
  readonly capture_method: CaptureMethod;
  readonly payment_method: string;
  /** Absent on a table made before saved cards until the ALTER below ran. */
  readonly provider_customer_id?: string | null;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly failure: PaymentFailure | null;
  readonly cancellation_reason: CancellationReason | null;
  /** Absent on a table made before intents until the ALTER below ran. */
  readonly pending_operation?: PendingOperation | null;
  readonly revision: string | number;
  readonly created_at: Date | string;
  readonly updated_at: Date | string;
}

/** The table and its invariants. */
export const PAYMENTS_TABLE_SQL = `
CREATE TABLE IF NOT EXISTS payments (
  -- Byte order: ids are time-ordered, and list pages walk them newest first.
  id text COLLATE "C" PRIMARY KEY,
  status text NOT NULL
    CONSTRAINT payments_status_known
      CHECK (status IN ('processing', 'requires_capture', 'succeeded', 'partially_refunded', 'refunded', 'canceled', 'failed')),
  customer_id text NOT NULL,
  amount bigint NOT NULL CONSTRAINT payments_amount_non_negative CHECK (amount >= 0),
  amount_capturable bigint NOT NULL CONSTRAINT payments_amount_capturable_non_negative CHECK (amount_capturable >= 0),
  amount_captured bigint NOT NULL CONSTRAINT payments_amount_captured_non_negative CHECK (amount_captured >= 0),
  amount_released bigint NOT NULL CONSTRAINT payments_amount_released_non_negative CHECK (amount_released >= 0),
  amount_refunded bigint NOT NULL DEFAULT 0 CONSTRAINT payments_amount_refunded_non_negative CHECK (amount_refunded >= 0),
  refund_reservations jsonb NOT NULL DEFAULT '{}',
  currency text NOT NULL,
  capture_method text NOT NULL CONSTRAINT payments_capture_method_known CHECK (capture_method IN ('automatic', 'manual')),
  payment_method text NOT NULL,
  description text,
  metadata jsonb NOT NULL DEFAULT '{}',
  failure jsonb,
  cancellation_reason text,
  revision bigint NOT NULL CONSTRAINT payments_revision_non_negative CHECK (revision >= 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Money settled (captured or given back) never exceeds what was authorized.
  CONSTRAINT payments_settled_within_amount CHECK (amount_captured + amount_released <= amount),
  CONSTRAINT payments_capturable_within_amount CHECK (amount_capturable <= amount)
);
-- Refunds (issue 7) on a table made before them: new columns default to "nothing refunded",
-- which is what every existing row is (no refund event existed), so no rebuild is needed;
-- the status check is widened once, by name, only while it still lacks the new statuses.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS amount_refunded bigint NOT NULL DEFAULT 0
  CONSTRAINT payments_amount_refunded_non_negative CHECK (amount_refunded >= 0);
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refund_reservations jsonb NOT NULL DEFAULT '{}';
DO $widen$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conname = 'payments_status_known' AND conrelid = 'payments'::regclass
                AND pg_get_constraintdef(oid) NOT LIKE '%partially_refunded%') THEN
    ALTER TABLE payments DROP CONSTRAINT payments_status_known;
    ALTER TABLE payments ADD CONSTRAINT payments_status_known
      CHECK (status IN ('requires_capture', 'succeeded', 'partially_refunded', 'refunded', 'canceled', 'failed'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'payments_refunded_within_captured' AND conrelid = 'payments'::regclass) THEN
    -- Refunds never give back more than was captured.
    ALTER TABLE payments ADD CONSTRAINT payments_refunded_within_captured CHECK (amount_refunded <= amount_captured);
  END IF;
END
$widen$;
-- Intents (payments are requested before the processor is called): a created-but-unanswered
-- payment is 'processing', and a row shows what is pending. Every row made before had nothing
-- pending (no request event existed), so the default is its truth and no rebuild is needed.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS pending_operation jsonb;
DO $widen_processing$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint
              WHERE conname = 'payments_status_known' AND conrelid = 'payments'::regclass
                AND pg_get_constraintdef(oid) NOT LIKE '%processing%') THEN
    ALTER TABLE payments DROP CONSTRAINT payments_status_known;
    ALTER TABLE payments ADD CONSTRAINT payments_status_known
      CHECK (status IN ('processing', 'requires_capture', 'succeeded', 'partially_refunded', 'refunded', 'canceled', 'failed'));
  END IF;
END
$widen_processing$;
-- Saved cards (issue 10): the processor's customer. Every row made before had none (no event
-- carried one), so NULL is its truth and no rebuild is needed.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS provider_customer_id text;
`;

/** The indexes the list queries need (newest first by id); a rebuild builds them after its replay. */
export const PAYMENTS_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS payments_customer_id_id ON payments (customer_id, id);
CREATE INDEX IF NOT EXISTS payments_status_id ON payments (status, id);
`;

export const PAYMENTS_SCHEMA_SQL = `${PAYMENTS_TABLE_SQL}${PAYMENTS_INDEX_SQL}`;


export function paymentViewFromRow(row: PaymentRow): PaymentView {
  return {
    id: row.id,
    object: 'payment',
    status: row.status,
    customerId: row.customer_id,
    amount: Number(row.amount),
    amountCapturable: Number(row.amount_capturable),
    amountCaptured: Number(row.amount_captured),
    amountReleased: Number(row.amount_released),
    amountRefunded: Number(row.amount_refunded ?? 0),
    currency: row.currency,
    captureMethod: row.capture_method,
    paymentMethod: row.payment_method,
    providerCustomerId: row.provider_customer_id ?? null,
    description: row.description,
    metadata: row.metadata,
    failure: row.failure,
    cancellationReason: row.cancellation_reason,
    pendingOperation: row.pending_operation ?? null,
    revision: String(row.revision),
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
  };
}
