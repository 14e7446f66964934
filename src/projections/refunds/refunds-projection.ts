import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import type { RefundEvent } from '../../domain/refund/events.js';
import { REFUND_EVENT_TYPES } from '../../domain/refund/events.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { withQueryIndexes } from '../projection.js';
import type { RefundRow } from './refund-row.js';
import { REFUNDS_INDEX_SQL, REFUNDS_TABLE_SQL, refundViewFromRow } from './refund-row.js';
import { nextRefundView, refundEventOf } from './refund-view-fold.js';

/*
 * Like payments (docs/architecture.md, "Projections"): a batch is folded in memory, then
 * written with one upsert. Idempotent under replay: an event whose revision the row already
 * has changes nothing and announces nothing, in memory and in the upsert's WHERE alike.
 */

/** The read model's name: its schema is rm_refunds, and `?minPosition=` on refund queries waits for its checkpoint. */
export const REFUNDS_PROJECTION = 'refunds';

const SELECT_ROWS = `SELECT * FROM refunds WHERE id = ANY($1::text[])`;

const UPSERT_ROWS = `
INSERT INTO refunds (id, payment_id, customer_id, amount, currency, status, reason, failure_reason, metadata,
                     revision, created_at, updated_at)
SELECT r.id, r."paymentId", r."customerId", r.amount, r.currency, r.status, r.reason, r."failureReason",
       coalesce(r.metadata, '{}'), r.revision, r."createdAt", r."updatedAt"
  FROM jsonb_to_recordset($1::jsonb) AS r(
       id text, "paymentId" text, "customerId" text, amount bigint, currency text, status text, reason text,
       "failureReason" text, metadata jsonb, revision bigint, "createdAt" timestamptz, "updatedAt" timestamptz)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status,
       failure_reason = EXCLUDED.failure_reason,
       revision = EXCLUDED.revision,
       updated_at = EXCLUDED.updated_at
 WHERE refunds.revision < EXCLUDED.revision`;

/** A batch folded in memory: what to announce, and the rows to write (one upsert). */
export interface FoldedRefundBatch {
  readonly changes: PositionedProjectionChange[];
  /** Each row the batch changed, as the batch leaves it. */
  readonly rows: RefundView[];
}

/** The topics a refund's change goes to: the refund's own, its payment's and its customer's. */
export const refundTopics = (view: RefundView): string[] => [`refund:${view.id}`, `payment:${view.paymentId}`, `customer:${view.customerId}`];

/** The pure half of a batch: folds `recorded` (in log order) into the `stored` rows of the refunds they name. */
export function foldRefundBatch(
  stored: Iterable<RefundView>,
  recorded: readonly RecordedEvent[],
  events: readonly RefundEvent[] = recorded.map(refundEventOf),
): FoldedRefundBatch {
  const current = new Map<string, RefundView>();
  for (const view of stored) current.set(view.id, view);
  const changes: PositionedProjectionChange[] = [];
  const dirty = new Set<string>();
  for (const [i, event] of events.entries()) {
    const at = recorded[i] as RecordedEvent;
    const prev = current.get(event.data.refundId);
    const next = nextRefundView(prev, at, event);
    if (!next) continue;
    current.set(next.id, next);
    dirty.add(next.id);
    changes.push({ topics: refundTopics(next), type: prev ? 'refund.updated' : 'refund.created', data: next, position: at.position });
  }
  return { changes, rows: [...dirty].map((id) => current.get(id) as RefundView) };
}

async function applyBatch(sql: SqlExecutor, recorded: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const events = recorded.map(refundEventOf);
  const ids = [...new Set(events.map((e) => e.data.refundId))];
  const stored = (await sql.query<RefundRow>(SELECT_ROWS, [ids])).rows.map(refundViewFromRow);
  const { changes, rows } = foldRefundBatch(stored, recorded, events);
  if (rows.length > 0) await sql.query(UPSERT_ROWS, [JSON.stringify(rows)]);
  return changes;
}

/** The `refunds` read model (schema rm_refunds): one row per refund, as the API shows it. */
export const refundsProjection: Projection = {
  name: REFUNDS_PROJECTION,
  version: 1,
  eventTypes: REFUND_EVENT_TYPES,
  ...withQueryIndexes(REFUNDS_TABLE_SQL, REFUNDS_INDEX_SQL),
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
