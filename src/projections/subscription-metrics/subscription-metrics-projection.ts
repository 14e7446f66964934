import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { ExistingSubscription } from '../../domain/subscription/index.js';
import { SUBSCRIPTION_EVENT_TYPES } from '../../domain/subscription/index.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { withQueryIndexes } from '../projection.js';
import type { TrackedSubscription } from './mrr-intervals.js';
import { foldIntervals } from './mrr-intervals.js';
import { MRR_INDEX_SQL, MRR_TABLES_SQL } from './mrr-schema.js';

/*
 * The subscription metrics read model (schema rm_subscription_metrics; docs/architecture.md,
 * "Subscriptions", MRR): each subscription's MRR intervals, from which MRR at any instant
 * and per month is summed (mrr-queries.ts). Set-based per batch: one read of the
 * subscriptions the batch names, the fold in memory (mrr-intervals.ts), then one statement
 * each to close stored intervals, insert new ones and save the subscriptions. The runner
 * commits them with the checkpoint; an event at or below a subscription's stored revision
 * changes nothing, so a replay writes the same rows.
 */

export const SUBSCRIPTION_METRICS_PROJECTION = 'subscription_metrics';

const SELECT_TRACKED = `
SELECT id, state, revision::text AS revision, open_seq, open_from
  FROM mrr_subscriptions WHERE id = ANY($1::text[])`;

const CLOSE_INTERVALS = `
UPDATE mrr_intervals AS i SET valid_to = c.valid_to
  FROM jsonb_to_recordset($1::jsonb) AS c(subscription_id text, seq integer, valid_to timestamptz)
 WHERE i.subscription_id = c.subscription_id AND i.seq = c.seq AND i.valid_to IS NULL`;

const INSERT_INTERVALS = `
INSERT INTO mrr_intervals (subscription_id, seq, test_clock, currency, status, mrr_numerator, mrr_denominator, valid_from, valid_to, churned)
SELECT r.subscription_id, r.seq, r.test_clock, r.currency, r.status, r.mrr_numerator, r.mrr_denominator, r.valid_from, r.valid_to, r.churned
  FROM jsonb_to_recordset($1::jsonb) AS r(
       subscription_id text, seq integer, test_clock text, currency text, status text,
       mrr_numerator bigint, mrr_denominator integer, valid_from timestamptz, valid_to timestamptz, churned boolean)
ON CONFLICT (subscription_id, seq) DO NOTHING`;

const UPSERT_TRACKED = `
INSERT INTO mrr_subscriptions (id, state, revision, open_seq, open_from)
SELECT r.id, r.state, r.revision, r.open_seq, r.open_from
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, state jsonb, revision bigint, open_seq integer, open_from timestamptz)
ON CONFLICT (id) DO UPDATE
   SET state = EXCLUDED.state, revision = EXCLUDED.revision, open_seq = EXCLUDED.open_seq, open_from = EXCLUDED.open_from
 WHERE mrr_subscriptions.revision < EXCLUDED.revision`;

interface TrackedRow {
  readonly id: string;
  readonly state: ExistingSubscription;
  readonly revision: string;
  readonly open_seq: number;
  readonly open_from: Date | string;
}

async function applyBatch(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const subscriptionEvents = events.filter((e) => e.streamId.startsWith('subscription-'));
  if (subscriptionEvents.length === 0) return [];
  const ids = [...new Set(subscriptionEvents.map((e) => e.streamId.slice('subscription-'.length)))];
  const { rows } = await sql.query<TrackedRow>(SELECT_TRACKED, [ids]);
  const stored = new Map<string, TrackedSubscription>(
    rows.map((r) => [r.id, { state: r.state, revision: BigInt(r.revision), openSeq: r.open_seq, openFrom: new Date(r.open_from).toISOString() }]),
  );
  const { tracked, dirty, inserts, closes } = foldIntervals(stored, subscriptionEvents);
  if (closes.length > 0) {
    await sql.query(CLOSE_INTERVALS, [JSON.stringify(closes.map((c) => ({ subscription_id: c.subscriptionId, seq: c.seq, valid_to: c.validTo })))]);
  }
  if (inserts.length > 0) {
    const wire = inserts.map((i) => ({
      subscription_id: i.subscriptionId,
      seq: i.seq,
      test_clock: i.testClock,
      currency: i.currency,
      status: i.status,
      mrr_numerator: i.numerator,
      mrr_denominator: i.denominator,
      valid_from: i.validFrom,
      valid_to: i.validTo,
      churned: i.churned,
    }));
    await sql.query(INSERT_INTERVALS, [JSON.stringify(wire)]);
  }
  if (dirty.size > 0) {
    const wire = [...dirty].map((id) => {
      const t = tracked.get(id) as TrackedSubscription;
      return { id, state: t.state, revision: t.revision.toString(), open_seq: t.openSeq, open_from: t.openFrom };
    });
    await sql.query(UPSERT_TRACKED, [JSON.stringify(wire)]);
  }
  // Metrics publish no realtime changes: dashboards read them over HTTP.
  return [];
}

/** MRR intervals per subscription (see mrr-schema.ts). */
export const subscriptionMetricsProjection: Projection = {
  name: SUBSCRIPTION_METRICS_PROJECTION,
  version: 1,
  eventTypes: SUBSCRIPTION_EVENT_TYPES,
  ...withQueryIndexes(MRR_TABLES_SQL, MRR_INDEX_SQL),
  applyBatch,
  async apply(sql, event) {
    await applyBatch(sql, [event]);
    return [];
  },
};
