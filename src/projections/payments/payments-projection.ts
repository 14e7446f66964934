import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PaymentAuthorized, PaymentCanceled, PaymentCaptured, PaymentFailed } from '../../domain/payment/index.js';
import { PAYMENT_EVENT_TYPES, upcastPaymentEvent } from '../../domain/payment/index.js';
import type { Projection, ProjectionChange } from '../projection.js';
import type { PaymentRow } from './payment-row.js';
import { PAYMENTS_SCHEMA_SQL, paymentViewFromRow } from './payment-row.js';

/*
 * Idempotent under replay: a creating event inserts only if the row is absent, and every
 * update is guarded by `revision < event.revision`, so applying an event twice changes
 * nothing the second time (and announces nothing: no realtime change).
 */

const INSERT_AUTHORIZED = `
INSERT INTO payments (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released,
                      currency, capture_method, payment_method, description, metadata, failure,
                      cancellation_reason, revision, created_at, updated_at)
VALUES ($1, 'requires_capture', $2, $3, $3, 0, 0, $4, $5, $6, $7, $8, NULL, NULL, $9, $10, $10)
ON CONFLICT (id) DO NOTHING
RETURNING *`;

const INSERT_FAILED = `
INSERT INTO payments (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released,
                      currency, capture_method, payment_method, description, metadata, failure,
                      cancellation_reason, revision, created_at, updated_at)
VALUES ($1, 'failed', $2, $3, 0, 0, 0, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $11)
ON CONFLICT (id) DO NOTHING
RETURNING *`;

const APPLY_CAPTURED = `
UPDATE payments
   SET status = 'succeeded',
       amount_captured = amount_captured + $2,
       amount_released = amount_released + $3,
       amount_capturable = 0,
       revision = $4,
       updated_at = $5
 WHERE id = $1 AND revision < $4
RETURNING *`;

const APPLY_CANCELED = `
UPDATE payments
   SET status = 'canceled',
       amount_released = amount_released + $2,
       amount_capturable = 0,
       cancellation_reason = $3,
       revision = $4,
       updated_at = $5
 WHERE id = $1 AND revision < $4
RETURNING *`;

const PAYMENT_EXISTS = `SELECT 1 FROM payments WHERE id = $1`;

function changed(row: PaymentRow | undefined, type: 'payment.created' | 'payment.updated'): ProjectionChange[] {
  if (!row) return [];
  const view = paymentViewFromRow(row);
  return [{ topics: [`payment:${view.id}`, `customer:${view.customerId}`], type, data: view }];
}

async function created(sql: SqlExecutor, event: RecordedEvent, d: PaymentAuthorized['data'] | PaymentFailed['data'], failed: PaymentFailed['data'] | undefined): Promise<ProjectionChange[]> {
  const common = [d.paymentId, d.customerId, d.amount, d.currency, d.captureMethod, d.paymentMethod, d.description, JSON.stringify(d.metadata)];
  const at = event.metadata.occurredAt;
  const revision = event.revision.toString();
  const result = failed
    ? await sql.query<PaymentRow>(INSERT_FAILED, [
        ...common,
        JSON.stringify({ code: failed.failureCode, declineCode: failed.declineCode, message: failed.failureMessage }),
        revision,
        at,
      ])
    : await sql.query<PaymentRow>(INSERT_AUTHORIZED, [...common, revision, at]);
  return changed(result.rows[0], 'payment.created');
}

async function updated(sql: SqlExecutor, text: string, paymentId: string, params: readonly unknown[]): Promise<ProjectionChange[]> {
  const result = await sql.query<PaymentRow>(text, [paymentId, ...params]);
  const row = result.rows[0];
  if (!row) {
    // Nothing updated: a replay (the row is already past this revision) or a payment we
    // never saw created, which would mean lost events. The second must stop the projection.
    const exists = await sql.query(PAYMENT_EXISTS, [paymentId]);
    if (exists.rows.length === 0) throw new Error(`payment ${paymentId} is not in the read model`);
  }
  return changed(row, 'payment.updated');
}

function captured(sql: SqlExecutor, event: RecordedEvent, d: PaymentCaptured['data']): Promise<ProjectionChange[]> {
  return updated(sql, APPLY_CAPTURED, d.paymentId, [d.amount, d.amountReleased, event.revision.toString(), event.metadata.occurredAt]);
}

function canceled(sql: SqlExecutor, event: RecordedEvent, d: PaymentCanceled['data']): Promise<ProjectionChange[]> {
  return updated(sql, APPLY_CANCELED, d.paymentId, [d.amountReleased, d.reason, event.revision.toString(), event.metadata.occurredAt]);
}

/** The `payments` read model (schema rm_payments): one row per payment, as the API shows it. */
export const paymentsProjection: Projection = {
  name: 'payments',
  version: 1,
  eventTypes: PAYMENT_EVENT_TYPES,
  schemaSql: PAYMENTS_SCHEMA_SQL,
  async apply(sql, event) {
    const e = upcastPaymentEvent(event.type, event.data, event.metadata.schemaVersion);
    switch (e.type) {
      case 'PaymentAuthorized':
        return created(sql, event, e.data, undefined);
      case 'PaymentFailed':
        return created(sql, event, e.data, e.data);
      case 'PaymentCaptured':
        return captured(sql, event, e.data);
      case 'PaymentCanceled':
        return canceled(sql, event, e.data);
    }
  },
};
