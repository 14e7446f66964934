import { toDisputeEvent, toDisputeView } from '../../application/disputes/dispute-stream.js';
import type { DisputeView } from '../../application/disputes/dispute-view.js';
import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { DisputeEvent, ExistingDispute } from '../../domain/dispute/index.js';
import { DISPUTE_EVENT_TYPES, DisputeEventNotApplicable, evolveDispute, initialDisputeState, isDisputeEventType } from '../../domain/dispute/index.js';
import { describeError } from '../logger.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { ProjectionEventError, withQueryIndexes } from '../projection.js';
import type { DisputeRow } from './dispute-row.js';
import { DISPUTES_INDEX_SQL, DISPUTES_TABLE_SQL, disputeStateOfRow, disputeViewFromRow } from './dispute-row.js';

/*
 * The disputes read model (docs/architecture.md, "Disputes"): one row per dispute, the
 * aggregate's own fold shown as the API shows it, like refunds; plus the index of our
 * payments by the processor's id, which the dispute handler finds a payment by. A batch is
 * folded in memory and written with one upsert; idempotent under replay (an event whose
 * revision the row already has changes nothing and announces nothing).
 */

export const DISPUTES_PROJECTION = 'disputes';

/**
 * Payment events that carry the processor's id of the payment (`data.providerPaymentId`).
 * Read by field, not by type: a payment event added later that carries it only needs its type here.
 */
export const PROVIDER_REF_EVENT_TYPES: readonly string[] = ['PaymentAuthorized', 'PaymentFailed'];

const SELECT_ROWS = `SELECT * FROM disputes WHERE id = ANY($1::text[])`;

const UPSERT_ROWS = `
INSERT INTO disputes (id, payment_id, customer_id, amount, currency, status, reason, fee_amount, evidence_due_by, opened_at,
                      provider_dispute_id, provider_payment_id, revision, created_at, updated_at)
SELECT r.id, r."paymentId", r."customerId", r.amount, r.currency, r.status, r.reason, r."feeAmount", r."evidenceDueBy", r."openedAt",
       r."providerDisputeId", r."providerPaymentId", r.revision, r."createdAt", r."updatedAt"
  FROM jsonb_to_recordset($1::jsonb) AS r(
       id text, "paymentId" text, "customerId" text, amount bigint, currency text, status text, reason text, "feeAmount" bigint,
       "evidenceDueBy" text, "openedAt" text, "providerDisputeId" text, "providerPaymentId" text, revision bigint,
       "createdAt" timestamptz, "updatedAt" timestamptz)
ON CONFLICT (id) DO UPDATE
   SET status = EXCLUDED.status,
       reason = EXCLUDED.reason,
       fee_amount = EXCLUDED.fee_amount,
       evidence_due_by = EXCLUDED.evidence_due_by,
       revision = EXCLUDED.revision,
       updated_at = EXCLUDED.updated_at
 WHERE disputes.revision < EXCLUDED.revision`;

const INSERT_REFS = `
INSERT INTO dispute_payment_refs (provider_payment_id, payment_id)
SELECT r.p, r.id FROM jsonb_to_recordset($1::jsonb) AS r(p text, id text)
ON CONFLICT (provider_payment_id) DO NOTHING`;

interface Folded {
  readonly view: DisputeView;
  readonly state: ExistingDispute;
}

/** The topics a dispute's change goes to: its own, its payment's and its customer's. */
export const disputeTopics = (view: DisputeView): string[] => [`dispute:${view.id}`, `payment:${view.paymentId}`, `customer:${view.customerId}`];

function disputeEventOf(recorded: RecordedEvent): DisputeEvent {
  try {
    return toDisputeEvent(recorded);
  } catch (error) {
    throw new ProjectionEventError(recorded, describeError(error));
  }
}

/** The dispute after `recorded`, or undefined when `prev` already reflects it (a replay). */
export function nextDispute(prev: Folded | undefined, recorded: RecordedEvent, event: DisputeEvent = disputeEventOf(recorded)): Folded | undefined {
  if (prev && BigInt(prev.view.revision) >= recorded.revision) return undefined;
  const at = recorded.metadata.occurredAt;
  try {
    const state = evolveDispute(prev ? prev.state : initialDisputeState, event);
    return { state, view: toDisputeView(state, recorded.revision, prev?.view.createdAt ?? at, at) };
  } catch (error) {
    if (!(error instanceof DisputeEventNotApplicable)) throw error;
    throw new ProjectionEventError(recorded, error.message);
  }
}

async function applyBatch(sql: SqlExecutor, recorded: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const refs: { p: string; id: string }[] = [];
  const disputes: { recorded: RecordedEvent; event: DisputeEvent }[] = [];
  for (const r of recorded) {
    if (isDisputeEventType(r.type)) {
      disputes.push({ recorded: r, event: disputeEventOf(r) });
      continue;
    }
    const data = (r.data ?? {}) as { providerPaymentId?: unknown; paymentId?: unknown };
    if (typeof data.providerPaymentId === 'string' && typeof data.paymentId === 'string') refs.push({ p: data.providerPaymentId, id: data.paymentId });
  }
  if (refs.length > 0) await sql.query(INSERT_REFS, [JSON.stringify(refs)]);
  if (disputes.length === 0) return [];
  const ids = [...new Set(disputes.map((d) => d.event.data.disputeId))];
  const current = new Map<string, Folded>();
  for (const row of (await sql.query<DisputeRow>(SELECT_ROWS, [ids])).rows) current.set(row.id, { view: disputeViewFromRow(row), state: disputeStateOfRow(row) });
  const changes: PositionedProjectionChange[] = [];
  const dirty = new Set<string>();
  for (const { recorded: r, event } of disputes) {
    const prev = current.get(event.data.disputeId);
    const next = nextDispute(prev, r, event);
    if (!next) continue;
    current.set(next.view.id, next);
    dirty.add(next.view.id);
    changes.push({ topics: disputeTopics(next.view), type: prev ? 'dispute.updated' : 'dispute.created', data: next.view, position: r.position });
  }
  if (dirty.size > 0) {
    const rows = [...dirty].map((id) => {
      const { view, state } = current.get(id) as Folded;
      return { ...view, providerDisputeId: state.providerDisputeId, providerPaymentId: state.providerPaymentId };
    });
    await sql.query(UPSERT_ROWS, [JSON.stringify(rows)]);
  }
  return changes;
}

/** The `disputes` read model (schema rm_disputes). */
export const disputesProjection: Projection = {
  name: DISPUTES_PROJECTION,
  version: 1,
  eventTypes: [...DISPUTE_EVENT_TYPES, ...PROVIDER_REF_EVENT_TYPES],
  ...withQueryIndexes(DISPUTES_TABLE_SQL, DISPUTES_INDEX_SQL),
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
