import { toDomainEvent } from '../../application/payments/payment-stream.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import { paymentStateOfView, toPaymentView } from '../../application/payments/payment-view.js';
import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { ExistingPayment, PaymentEvent } from '../../domain/payment/index.js';
import { EventNotApplicable, PAYMENT_EVENT_TYPES, evolve, initialState } from '../../domain/payment/index.js';
import { describeError } from '../logger.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError, withQueryIndexes } from '../projection.js';
import type { PaymentRow } from './payment-row.js';
import { PAYMENTS_INDEX_SQL, PAYMENTS_TABLE_SQL, paymentViewFromRow } from './payment-row.js';

/*
 * A batch is folded in memory, then written with one upsert: replay speed is set by
 * statements per batch, not per event. Idempotent under replay: an event whose revision
 * the row already has changes nothing and announces nothing, in memory and in the
 * upsert's WHERE alike.
 */

const SELECT_ROWS = `SELECT * FROM payments WHERE id = ANY($1::text[])`;

const UPSERT_ROWS = `
INSERT INTO payments (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released,
                      amount_refunded, refund_reservations, currency, capture_method, payment_method, description, metadata, failure,
                      cancellation_reason, pending_operation, revision, created_at, updated_at, provider_customer_id)
SELECT r.id, r.status, r."customerId", r.amount, r."amountCapturable", r."amountCaptured", r."amountReleased",
       coalesce(r."amountRefunded", 0), coalesce(r."refundReservations", '{}'), r.currency, r."captureMethod", r."paymentMethod", r.description, coalesce(r.metadata, '{}'), r.failure,
       r."cancellationReason", r."pendingOperation", r.revision, r."createdAt", r."updatedAt", r."providerCustomerId"
  FROM jsonb_to_recordset($1::jsonb) AS r(
       id text, status text, "customerId" text, amount bigint, "amountCapturable" bigint, "amountCaptured" bigint,
       "amountReleased" bigint, "amountRefunded" bigint, "refundReservations" jsonb, currency text, "captureMethod" text, "paymentMethod" text, description text,
       metadata jsonb, failure jsonb, "cancellationReason" text, "pendingOperation" jsonb, revision bigint, "createdAt" timestamptz,
       "updatedAt" timestamptz, "providerCustomerId" text)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status,
       amount_capturable = EXCLUDED.amount_capturable,
       amount_captured = EXCLUDED.amount_captured,
       amount_released = EXCLUDED.amount_released,
       amount_refunded = EXCLUDED.amount_refunded,
       refund_reservations = EXCLUDED.refund_reservations,
       failure = EXCLUDED.failure,
       cancellation_reason = EXCLUDED.cancellation_reason,
       pending_operation = EXCLUDED.pending_operation,
       revision = EXCLUDED.revision,
       updated_at = EXCLUDED.updated_at
 WHERE payments.revision < EXCLUDED.revision`;

/** A row in memory: the view as stored, and the aggregate state it shows (kept to fold on). */
interface FoldedRow {
  readonly view: PaymentView;
  readonly state: ExistingPayment;
}

const rowOf = (view: PaymentView, reservations?: ExistingPayment['refundReservations']): FoldedRow => ({
  view,
  state: paymentStateOfView(view, reservations),
});

/**
 * The payment after `event`, or undefined when the view already reflects it (a replay).
 * The row is the aggregate's own fold: the view's state, evolved by the event, shown again.
 * Pure, so the batch path and a test can both call it.
 */
export function nextPaymentView(
  prev: PaymentView | undefined,
  event: RecordedEvent,
  reservations?: ExistingPayment['refundReservations'],
): PaymentView | undefined {
  return foldIntoRow(prev && rowOf(prev, reservations), event, domainEventOf(event))?.view;
}

/** An event this code cannot read stops the projection at that event, not at its batch's first. */
function domainEventOf(recorded: RecordedEvent): PaymentEvent {
  try {
    return toDomainEvent(recorded);
  } catch (error) {
    throw new ProjectionEventError(recorded, describeError(error));
  }
}

function foldIntoRow(prev: FoldedRow | undefined, recorded: RecordedEvent, event: PaymentEvent): FoldedRow | undefined {
  if (prev && BigInt(prev.view.revision) >= recorded.revision) return undefined;
  let state;
  try {
    state = evolve(prev ? prev.state : initialState, event);
  } catch (error) {
    if (!(error instanceof EventNotApplicable)) throw error;
    // An update for a payment we never saw created would mean lost events: stop here, naming it.
    const message = error.reason === 'not_created' ? `payment ${event.data.paymentId} is not in the read model (${error.message})` : error.message;
    throw new ProjectionEventError(recorded, message);
  }
  const at = recorded.metadata.occurredAt;
  return { state, view: toPaymentView(state, recorded.revision, prev ? prev.view.createdAt : at, at) };
}

/** A stored row: the view and the reservations kept beside it (not shown by the API). */
export interface StoredPayment {
  readonly view: PaymentView;
  readonly refundReservations?: ExistingPayment['refundReservations'] | undefined;
}

/** A row to write: the view plus the reservations column. */
export type PaymentRowOut = PaymentView & { readonly refundReservations: ExistingPayment['refundReservations'] };

/** A batch folded in memory: what to announce, and the rows to write (one upsert). */
export interface FoldedBatch {
  readonly changes: PositionedProjectionChange[];
  /** Each row the batch changed, as the batch leaves it. */
  readonly rows: PaymentView[];
  /** The same rows with their reservations, as the upsert writes them. */
  readonly rowsOut: PaymentRowOut[];
}

/**
 * The pure half of a batch: folds `recorded` (in log order) into the `stored` rows of the
 * payments they name. `events` are the same events upcast, when the caller has them.
 */
export function foldBatch(
  stored: Iterable<PaymentView | StoredPayment>,
  recorded: readonly RecordedEvent[],
  events: readonly PaymentEvent[] = recorded.map(domainEventOf),
): FoldedBatch {
  const current = new Map<string, FoldedRow>();
  for (const s of stored) {
    const { view, refundReservations } = 'view' in s ? s : { view: s, refundReservations: undefined };
    current.set(view.id, rowOf(view, refundReservations));
  }
  const changes: PositionedProjectionChange[] = [];
  const dirty = new Set<string>();
  for (const [i, event] of events.entries()) {
    const at = recorded[i] as RecordedEvent;
    const id = event.data.paymentId;
    const prev = current.get(id);
    const next = foldIntoRow(prev, at, event);
    if (!next) continue;
    current.set(id, next);
    dirty.add(id);
    changes.push({
      topics: [`payment:${id}`, `customer:${next.view.customerId}`],
      type: prev ? 'payment.updated' : 'payment.created',
      data: next.view,
      position: at.position,
    });
  }
  const folded = [...dirty].map((id) => current.get(id) as FoldedRow);
  return {
    changes,
    rows: folded.map((r) => r.view),
    rowsOut: folded.map((r) => ({ ...r.view, refundReservations: r.state.refundReservations })),
  };
}

async function applyBatch(sql: SqlExecutor, recorded: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const events = recorded.map(domainEventOf);
  const ids = [...new Set(events.map((e) => e.data.paymentId))];
  const stored = (await sql.query<PaymentRow>(SELECT_ROWS, [ids])).rows.map(
    (row): StoredPayment => ({ view: paymentViewFromRow(row), refundReservations: row.refund_reservations }),
  );
  const { changes, rowsOut } = foldBatch(stored, recorded, events);
  if (rowsOut.length > 0) await sql.query(UPSERT_ROWS, [JSON.stringify(rowsOut)]);
  return changes;
}

/** The `payments` read model (schema rm_payments): one row per payment, as the API shows it. */
export const paymentsProjection: Projection = {
  name: 'payments',
  version: 1,
  eventTypes: PAYMENT_EVENT_TYPES,
  ...withQueryIndexes(PAYMENTS_TABLE_SQL, PAYMENTS_INDEX_SQL),
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
