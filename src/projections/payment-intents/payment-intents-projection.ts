import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { PaymentIntentQueue, PendingPaymentItem } from '../../application/ports/payment-intent-queue.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PaymentId } from '../../domain/ids.js';
import { PAYMENT_REQUEST_EVENT_TYPES } from '../../domain/payment/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError, projectionSchema } from '../projection.js';

/*
 * The payment intent completer's memory (docs/architecture.md, "Payments: intent first"),
 * rebuilt from the log like any read model: one row per payment with a request to the
 * processor that no outcome has answered. A request event opens it, any outcome event of the
 * payment removes it (a payment has at most one pending request: the decider refuses a
 * second). Its own table rather than a column of `payments`: the completer's bookkeeping
 * (attempts, due time) is worker state, not what the API shows, and a rebuild of either
 * must not reset the other. Committed with the projection's checkpoint, so exactly once per
 * event; a rebuild leaves the same rows with fresh bookkeeping.
 */

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS payment_intents (
  payment_id text COLLATE "C" PRIMARY KEY,
  request_event_id text NOT NULL,
  operation text NOT NULL CONSTRAINT payment_intents_operation_known CHECK (operation IN ('create', 'capture', 'cancel')),
  requested_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_intents_due ON payment_intents (next_attempt_at);
-- The oldest unanswered request, for the backlog gauge (payment-request-backlog.ts): one index probe per scrape.
CREATE INDEX IF NOT EXISTS payment_intents_requested ON payment_intents (requested_at);
`;

const OPERATION_OF: Readonly<Record<string, PendingPaymentItem['operation']>> = {
  PaymentRequested: 'create',
  PaymentCaptureRequested: 'capture',
  PaymentCancelRequested: 'cancel',
};

/** Every event that answers a pending request (and, in streams from before intents, events that need none). */
const OUTCOME_EVENT_TYPES = ['PaymentAuthorized', 'PaymentFailed', 'PaymentCaptured', 'PaymentCanceled', 'PaymentOperationRefused'] as const;

export const PAYMENT_INTENTS_EVENT_TYPES: readonly string[] = [...PAYMENT_REQUEST_EVENT_TYPES, ...OUTCOME_EVENT_TYPES];

function paymentIdOf(event: RecordedEvent): string {
  const id = (event.data as { paymentId?: unknown }).paymentId;
  if (typeof id !== 'string') throw new ProjectionEventError(event, `${event.type} names no payment id`);
  return id;
}

export interface PaymentIntentRow {
  readonly payment_id: string;
  readonly request_event_id: string;
  readonly operation: PendingPaymentItem['operation'];
  readonly at: string;
}

export interface PaymentIntentWrites {
  /** Payments whose pending request the batch answered (deleting an absent row is harmless). */
  readonly deletes: string[];
  /** Requests the batch left pending. */
  readonly upserts: PaymentIntentRow[];
}

/** The pure half of a batch: in log order, a request opens its payment's row and an outcome removes it. */
export function foldPaymentIntents(events: readonly RecordedEvent[]): PaymentIntentWrites {
  const slots = new Map<string, PaymentIntentRow | null>();
  for (const event of events) {
    const paymentId = paymentIdOf(event);
    const operation = OPERATION_OF[event.type];
    slots.set(paymentId, operation ? { payment_id: paymentId, request_event_id: event.id, operation, at: event.metadata.occurredAt } : null);
  }
  const deletes: string[] = [];
  const upserts: PaymentIntentRow[] = [];
  for (const [id, row] of slots) {
    if (row) upserts.push(row);
    else deletes.push(id);
  }
  return { deletes, upserts };
}

const WRITE_ROWS = `
WITH r AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(payment_id text, request_event_id text, operation text, at timestamptz)
), gone AS (
  DELETE FROM payment_intents WHERE payment_id = ANY($1::text[])
)
INSERT INTO payment_intents (payment_id, request_event_id, operation, requested_at, attempts, next_attempt_at)
SELECT r.payment_id, r.request_event_id, r.operation, r.at, 0, r.at FROM r
ON CONFLICT (payment_id) DO UPDATE
   SET request_event_id = EXCLUDED.request_event_id, operation = EXCLUDED.operation,
       requested_at = EXCLUDED.requested_at, attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at`;

async function applyBatch(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const { deletes, upserts } = foldPaymentIntents(events);
  if (deletes.length > 0 || upserts.length > 0) await sql.query(WRITE_ROWS, [deletes, JSON.stringify(upserts)]);
  // The completer polls its table: no realtime changes.
  return [];
}

export const PAYMENT_INTENTS_PROJECTION = 'payment_intents';

export const paymentIntentsProjection: Projection = {
  name: PAYMENT_INTENTS_PROJECTION,
  version: 1,
  eventTypes: PAYMENT_INTENTS_EVENT_TYPES,
  schemaSql: SCHEMA_SQL,
  applyBatch,
  async apply(sql: SqlExecutor, event: RecordedEvent) {
    await applyBatch(sql, [event]);
    return [];
  },
};

const TABLE = `${projectionSchema(PAYMENT_INTENTS_PROJECTION)}.payment_intents`;

interface ItemRow {
  payment_id: string;
  request_event_id: string;
  operation: PendingPaymentItem['operation'];
  attempts: number;
}

/** The queue over the projection's table; due times use the database's clock, one clock for every instance. */
export class SqlPaymentIntentQueue implements PaymentIntentQueue {
  constructor(private readonly sql: SqlExecutor) {}

  async claimDue(limit: number, graceMs: number, leaseMs: number): Promise<PendingPaymentItem[]> {
    const result = await this.sql.query<ItemRow>(
      `UPDATE ${TABLE} w SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
         FROM (SELECT payment_id FROM ${TABLE}
                WHERE next_attempt_at <= now() AND requested_at <= now() - make_interval(secs => $2::double precision / 1000)
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE w.payment_id = due.payment_id
       RETURNING w.payment_id, w.request_event_id, w.operation, w.attempts`,
      [limit, graceMs, leaseMs],
    );
    return result.rows.map((r) => ({ paymentId: r.payment_id as PaymentId, requestEventId: r.request_event_id, operation: r.operation, attempts: r.attempts }));
  }

  async reschedule(item: PendingPaymentItem, attempts: number, delayMs: number): Promise<void> {
    await this.sql.query(
      `UPDATE ${TABLE} SET attempts = $3, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
        WHERE payment_id = $1 AND request_event_id = $2`,
      [item.paymentId, item.requestEventId, attempts, delayMs],
    );
  }
}
