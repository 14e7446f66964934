import type { PaymentView } from '../../application/payments/payment-view.js';
import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import { PAYMENT_EVENT_TYPES, upcastPaymentEvent } from '../../domain/payment/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError } from '../projection.js';
import type { PaymentRow } from './payment-row.js';
import { PAYMENTS_SCHEMA_SQL, paymentViewFromRow } from './payment-row.js';

/*
 * A batch is folded in memory, then written with one upsert: replay speed is set by
 * statements per batch, not per event. Idempotent under replay: an event whose revision
 * the row already has changes nothing and announces nothing, in memory and in the
 * upsert's WHERE alike.
 */

const SELECT_ROWS = `SELECT * FROM payments WHERE id = ANY($1::text[])`;

const UPSERT_ROWS = `
INSERT INTO payments (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released,
                      currency, capture_method, payment_method, description, metadata, failure,
                      cancellation_reason, revision, created_at, updated_at)
SELECT r.id, r.status, r."customerId", r.amount, r."amountCapturable", r."amountCaptured", r."amountReleased",
       r.currency, r."captureMethod", r."paymentMethod", r.description, coalesce(r.metadata, '{}'), r.failure,
       r."cancellationReason", r.revision, r."createdAt", r."updatedAt"
  FROM jsonb_to_recordset($1::jsonb) AS r(
       id text, status text, "customerId" text, amount bigint, "amountCapturable" bigint, "amountCaptured" bigint,
       "amountReleased" bigint, currency text, "captureMethod" text, "paymentMethod" text, description text,
       metadata jsonb, failure jsonb, "cancellationReason" text, revision bigint, "createdAt" timestamptz,
       "updatedAt" timestamptz)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status,
       amount_capturable = EXCLUDED.amount_capturable,
       amount_captured = EXCLUDED.amount_captured,
       amount_released = EXCLUDED.amount_released,
       failure = EXCLUDED.failure,
       cancellation_reason = EXCLUDED.cancellation_reason,
       revision = EXCLUDED.revision,
       updated_at = EXCLUDED.updated_at
 WHERE payments.revision < EXCLUDED.revision`;

/**
 * The payment after `event`, or undefined when the view already reflects it (a replay).
 * Pure, so the batch path and a test can both call it.
 */
export function nextPaymentView(prev: PaymentView | undefined, event: RecordedEvent): PaymentView | undefined {
  const e = upcastPaymentEvent(event.type, event.data, event.metadata.schemaVersion);
  const revision = event.revision.toString();
  const at = event.metadata.occurredAt;
  switch (e.type) {
    case 'PaymentAuthorized':
    case 'PaymentFailed': {
      if (prev) return undefined;
      const d = e.data;
      const failed = e.type === 'PaymentFailed' ? e.data : undefined;
      return {
        id: d.paymentId,
        object: 'payment',
        status: failed ? 'failed' : 'requires_capture',
        customerId: d.customerId,
        amount: d.amount,
        amountCapturable: failed ? 0 : d.amount,
        amountCaptured: 0,
        amountReleased: 0,
        currency: d.currency,
        captureMethod: d.captureMethod,
        paymentMethod: d.paymentMethod,
        description: d.description,
        metadata: d.metadata,
        failure: failed ? { code: failed.failureCode, declineCode: failed.declineCode, message: failed.failureMessage } : null,
        cancellationReason: null,
        revision,
        createdAt: at,
        updatedAt: at,
      };
    }
    case 'PaymentCaptured':
    case 'PaymentCanceled': {
      // An update for a payment we never saw created would mean lost events: stop here.
      if (!prev) throw new ProjectionEventError(event, `payment ${e.data.paymentId} is not in the read model`);
      if (BigInt(prev.revision) >= event.revision) return undefined;
      const next: PaymentView =
        e.type === 'PaymentCaptured'
          ? {
              ...prev,
              status: 'succeeded',
              amountCaptured: prev.amountCaptured + e.data.amount,
              amountReleased: prev.amountReleased + e.data.amountReleased,
              amountCapturable: 0,
              revision,
              updatedAt: at,
            }
          : {
              ...prev,
              status: 'canceled',
              amountReleased: prev.amountReleased + e.data.amountReleased,
              amountCapturable: 0,
              cancellationReason: e.data.reason,
              revision,
              updatedAt: at,
            };
      // The table's CHECK says the same; failing here names the event instead of the batch.
      if (next.amountCaptured + next.amountReleased > next.amount) {
        throw new ProjectionEventError(event, `payment ${next.id}: captured + released (${next.amountCaptured + next.amountReleased}) exceeds the amount ${next.amount}`);
      }
      return next;
    }
  }
}

async function applyBatch(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const ids = [...new Set(events.map((e) => (e.data as { paymentId: string }).paymentId))];
  const current = new Map<string, PaymentView>();
  for (const row of (await sql.query<PaymentRow>(SELECT_ROWS, [ids])).rows) current.set(row.id, paymentViewFromRow(row));

  const changes: PositionedProjectionChange[] = [];
  const dirty = new Set<string>();
  for (const event of events) {
    const id = (event.data as { paymentId: string }).paymentId;
    const prev = current.get(id);
    const next = nextPaymentView(prev, event);
    if (!next) continue;
    current.set(id, next);
    dirty.add(id);
    changes.push({
      topics: [`payment:${next.id}`, `customer:${next.customerId}`],
      type: prev ? 'payment.updated' : 'payment.created',
      data: next,
      position: event.position,
    });
  }
  if (dirty.size > 0) await sql.query(UPSERT_ROWS, [JSON.stringify([...dirty].map((id) => current.get(id)))]);
  return changes;
}

/** The `payments` read model (schema rm_payments): one row per payment, as the API shows it. */
export const paymentsProjection: Projection = {
  name: 'payments',
  version: 1,
  eventTypes: PAYMENT_EVENT_TYPES,
  schemaSql: PAYMENTS_SCHEMA_SQL,
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
