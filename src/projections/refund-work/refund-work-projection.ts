import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { RefundWorkItem, RefundWorkQueue, RefundWorkStep } from '../../application/ports/refund-work-queue.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PaymentId, RefundId } from '../../domain/ids.js';
import { PAYMENT_REFUND_EVENT_TYPES } from '../../domain/payment/index.js';
import { REFUND_EVENT_TYPES } from '../../domain/refund/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError, projectionSchema } from '../projection.js';

/*
 * The refund process manager's memory, rebuilt from the log like any read model: one row
 * per refund with work left. A reservation opens it (step `request`), RefundRequested moves
 * it to `provider`, an outcome to `close`, the settle or release on the payment removes
 * it. Steps only move forward, so a replay leaves the same rows; the worker's own
 * bookkeeping (attempts, due time) is all it adds, and a rebuild merely restarts it.
 * Committed with the projection's checkpoint, so exactly once per event.
 */

/** The worker leaves a row this long after its event, so it does not race the HTTP handler doing the same step. */
export const REFUND_WORK_GRACE_SECONDS = 5;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS refund_work (
  refund_id text COLLATE "C" PRIMARY KEY,
  payment_id text NOT NULL,
  reservation_event_id text NOT NULL,
  step text NOT NULL CONSTRAINT refund_work_step_known CHECK (step IN ('request', 'provider', 'close')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS refund_work_due ON refund_work (next_attempt_at);
`;

/*
 * Set-based per batch (docs/architecture.md, "Recipes": a new projection): the rows the
 * batch names are read once, the batch is folded over them in memory exactly as the
 * per-event rules below would change them, and the result is written with one statement
 * (deletes and upserts of disjoint ids). One event at a time, the rules are:
 *
 *   PaymentRefundReserved                  insert (step request) unless the row exists
 *   RefundRequested / Succeeded / Failed…  move the step forward (provider, close), never back
 *   PaymentRefundSettled / Released        delete
 *
 * A moved row starts over (attempts 0, due a grace period after its event). Only this
 * projection inserts, deletes or changes the step; the worker only touches attempts and
 * due times, so the step read at the start of the batch is still the step at its end.
 */

const SELECT_ROWS = `SELECT refund_id, step FROM refund_work WHERE refund_id = ANY($1::text[])`;

// Three disjoint sets of ids: gone, moved on (payment_id null: keep the stored one), opened.
const WRITE_ROWS = `
WITH r AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(refund_id text, payment_id text, reservation_event_id text, step text, at timestamptz)
), gone AS (
  DELETE FROM refund_work WHERE refund_id = ANY($1::text[])
), moved AS (
  UPDATE refund_work w SET step = r.step, attempts = 0, next_attempt_at = r.at + make_interval(secs => $3)
    FROM r WHERE r.payment_id IS NULL AND w.refund_id = r.refund_id
)
INSERT INTO refund_work (refund_id, payment_id, reservation_event_id, step, attempts, next_attempt_at)
SELECT r.refund_id, r.payment_id, r.reservation_event_id, r.step, 0, r.at + make_interval(secs => $3)
  FROM r WHERE r.payment_id IS NOT NULL
ON CONFLICT (refund_id) DO UPDATE
   SET payment_id = EXCLUDED.payment_id, reservation_event_id = EXCLUDED.reservation_event_id,
       step = EXCLUDED.step, attempts = 0, next_attempt_at = EXCLUDED.next_attempt_at`;

const STEP_OF: Readonly<Record<string, RefundWorkStep>> = {
  RefundRequested: 'provider',
  RefundSucceeded: 'close',
  RefundFailed: 'close',
  RefundCanceled: 'close',
};

const RANK: Readonly<Record<RefundWorkStep, number>> = { request: 0, provider: 1, close: 2 };

function refundIdOf(event: RecordedEvent): string {
  const id = (event.data as { refundId?: unknown }).refundId;
  if (typeof id !== 'string') throw new ProjectionEventError(event, `${event.type} names no refund id`);
  return id;
}

/** A row as the batch leaves it; `written` rows carry what the upsert needs. */
type Slot =
  | { readonly kind: 'absent' }
  | { readonly kind: 'stored'; readonly step: RefundWorkStep }
  | { readonly kind: 'written'; readonly step: RefundWorkStep; readonly paymentId?: string; readonly reservationEventId?: string; readonly at: string };

export interface RefundWorkWrites {
  /** Rows to delete (they existed before the batch and are gone after it). */
  readonly deletes: string[];
  /** Rows to insert or move; an update keeps the stored payment and reservation. */
  readonly upserts: { refund_id: string; payment_id: string | null; reservation_event_id: string | null; step: RefundWorkStep; at: string }[];
}

/**
 * The pure half of a batch: `stored` holds the step of every row the batch names that
 * exists now. Deterministic, so a rebuild leaves what the live runner left.
 */
export function foldRefundWork(stored: ReadonlyMap<string, RefundWorkStep>, events: readonly RecordedEvent[]): RefundWorkWrites {
  const slots = new Map<string, Slot>();
  const slotOf = (id: string): Slot => {
    const known = slots.get(id);
    if (known) return known;
    const step = stored.get(id);
    return step ? { kind: 'stored', step } : { kind: 'absent' };
  };
  for (const event of events) {
    const refundId = refundIdOf(event);
    const slot = slotOf(refundId);
    const at = event.metadata.occurredAt;
    if (event.type === 'PaymentRefundReserved') {
      if (slot.kind !== 'absent') continue;
      const paymentId = (event.data as { paymentId?: unknown }).paymentId;
      if (typeof paymentId !== 'string') throw new ProjectionEventError(event, `${event.type} names no payment id`);
      slots.set(refundId, { kind: 'written', step: 'request', paymentId, reservationEventId: event.id, at });
    } else if (event.type === 'PaymentRefundSettled' || event.type === 'PaymentRefundReleased') {
      slots.set(refundId, { kind: 'absent' });
    } else {
      const step = STEP_OF[event.type];
      if (!step || slot.kind === 'absent' || RANK[slot.step] >= RANK[step]) continue;
      slots.set(refundId, { ...slot, kind: 'written', step, at });
    }
  }
  const deletes: string[] = [];
  const upserts: RefundWorkWrites['upserts'] = [];
  for (const [id, slot] of slots) {
    if (slot.kind === 'absent') {
      if (stored.has(id)) deletes.push(id);
    } else if (slot.kind === 'written') {
      upserts.push({ refund_id: id, payment_id: slot.paymentId ?? null, reservation_event_id: slot.reservationEventId ?? null, step: slot.step, at: slot.at });
    }
  }
  return { deletes, upserts };
}

export function refundWorkProjection(graceSeconds: number = REFUND_WORK_GRACE_SECONDS): Projection {
  const applyBatch = async (sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> => {
    const ids = [...new Set(events.map(refundIdOf))];
    const rows = await sql.query<{ refund_id: string; step: RefundWorkStep }>(SELECT_ROWS, [ids]);
    const { deletes, upserts } = foldRefundWork(new Map(rows.rows.map((r) => [r.refund_id, r.step])), events);
    if (deletes.length > 0 || upserts.length > 0) await sql.query(WRITE_ROWS, [deletes, JSON.stringify(upserts), graceSeconds]);
    // The worker polls its table: no realtime changes.
    return [];
  };
  return {
    name: 'refund_work',
    version: 1,
    eventTypes: [...PAYMENT_REFUND_EVENT_TYPES, ...REFUND_EVENT_TYPES],
    schemaSql: SCHEMA_SQL,
    applyBatch,
    async apply(sql: SqlExecutor, event: RecordedEvent) {
      await applyBatch(sql, [event]);
      return [];
    },
  };
}

const TABLE = `${projectionSchema('refund_work')}.refund_work`;

interface WorkRow {
  refund_id: string;
  payment_id: string;
  reservation_event_id: string;
  step: RefundWorkStep;
  attempts: number;
}

/** The queue over the projection's table; due times use the database's clock, one clock for every instance. */
export class SqlRefundWorkQueue implements RefundWorkQueue {
  constructor(private readonly sql: SqlExecutor) {}

  async claimDue(limit: number, leaseMs: number): Promise<RefundWorkItem[]> {
    const result = await this.sql.query<WorkRow>(
      `UPDATE ${TABLE} w SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM (SELECT refund_id FROM ${TABLE} WHERE next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE w.refund_id = due.refund_id
       RETURNING w.refund_id, w.payment_id, w.reservation_event_id, w.step, w.attempts`,
      [limit, leaseMs],
    );
    return result.rows.map((r) => ({
      refundId: r.refund_id as RefundId,
      paymentId: r.payment_id as PaymentId,
      reservationEventId: r.reservation_event_id,
      step: r.step,
      attempts: r.attempts,
    }));
  }

  async reschedule(item: RefundWorkItem, attempts: number, delayMs: number): Promise<void> {
    await this.sql.query(
      `UPDATE ${TABLE} SET attempts = $3, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000) WHERE refund_id = $1 AND step = $2`,
      [item.refundId, item.step, attempts, delayMs],
    );
  }
}
