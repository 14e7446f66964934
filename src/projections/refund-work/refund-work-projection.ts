import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { RefundWorkItem, RefundWorkQueue, RefundWorkStep } from '../../application/ports/refund-work-queue.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PaymentId, RefundId } from '../../domain/ids.js';
import { PAYMENT_REFUND_EVENT_TYPES } from '../../domain/payment/index.js';
import { REFUND_EVENT_TYPES } from '../../domain/refund/index.js';
import type { Projection } from '../projection.js';
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

const RANK = `CASE step WHEN 'request' THEN 0 WHEN 'provider' THEN 1 ELSE 2 END`;

const OPEN = `
INSERT INTO refund_work (refund_id, payment_id, reservation_event_id, step, next_attempt_at)
VALUES ($1, $2, $3, 'request', $4::timestamptz + make_interval(secs => $5))
ON CONFLICT (refund_id) DO NOTHING`;

const ADVANCE = `
UPDATE refund_work SET step = $2, attempts = 0, next_attempt_at = $3::timestamptz + make_interval(secs => $4)
 WHERE refund_id = $1 AND ${RANK} < (CASE $2 WHEN 'request' THEN 0 WHEN 'provider' THEN 1 ELSE 2 END)`;

const DONE = `DELETE FROM refund_work WHERE refund_id = $1`;

const STEP_OF: Readonly<Record<string, RefundWorkStep>> = {
  RefundRequested: 'provider',
  RefundSucceeded: 'close',
  RefundFailed: 'close',
  RefundCanceled: 'close',
};

function refundIdOf(event: RecordedEvent): string {
  const id = (event.data as { refundId?: unknown }).refundId;
  if (typeof id !== 'string') throw new ProjectionEventError(event, `${event.type} names no refund id`);
  return id;
}

export function refundWorkProjection(graceSeconds: number = REFUND_WORK_GRACE_SECONDS): Projection {
  return {
    name: 'refund_work',
    version: 1,
    eventTypes: [...PAYMENT_REFUND_EVENT_TYPES, ...REFUND_EVENT_TYPES],
    schemaSql: SCHEMA_SQL,
    async apply(sql: SqlExecutor, event: RecordedEvent) {
      const refundId = refundIdOf(event);
      const at = event.metadata.occurredAt;
      if (event.type === 'PaymentRefundReserved') {
        await sql.query(OPEN, [refundId, (event.data as { paymentId: string }).paymentId, event.id, at, graceSeconds]);
      } else if (event.type === 'PaymentRefundSettled' || event.type === 'PaymentRefundReleased') {
        await sql.query(DONE, [refundId]);
      } else {
        const step = STEP_OF[event.type];
        if (step) await sql.query(ADVANCE, [refundId, step, at, graceSeconds]);
      }
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
