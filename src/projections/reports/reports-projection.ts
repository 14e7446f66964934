import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { PositionParts } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import type { RevenueDelta } from './revenue-fold.js';
import { REVENUE_EVENT_TYPES, aggregateBatch, countedEvents, keysOf, rowKey } from './revenue-fold.js';
import { REVENUE_SCHEMA_SQL } from './revenue-schema.js';

/*
 * Set-based per batch (docs/architecture.md, "Recipes", a new projection): the batch is
 * aggregated in memory into one delta per (day, currency), then written with one upsert
 * that adds (`+=`). The runner commits it with the checkpoint, so each event counts once;
 * the per-row `last` position makes a replayed batch change nothing as well.
 */

const SELECT_LAST = `
SELECT to_char(r.day, 'YYYY-MM-DD') AS day, r.currency, r.last_commit::text AS last_commit, r.last_prepare::text AS last_prepare
  FROM revenue_daily r
  JOIN unnest($1::date[], $2::text[]) AS k(day, currency) ON r.day = k.day AND r.currency = k.currency`;

const UPSERT_DELTAS = `
INSERT INTO revenue_daily AS t (day, currency, gross, refunded, payments, refunds, last_commit, last_prepare)
SELECT d.day, d.currency, d.gross, d.refunded, d.payments, d.refunds, d.last_commit, d.last_prepare
  FROM jsonb_to_recordset($1::jsonb) AS d(
       day date, currency text, gross bigint, refunded bigint, payments bigint, refunds bigint,
       last_commit numeric, last_prepare numeric)
ON CONFLICT (day, currency) DO UPDATE
   SET gross = t.gross + EXCLUDED.gross,
       refunded = t.refunded + EXCLUDED.refunded,
       payments = t.payments + EXCLUDED.payments,
       refunds = t.refunds + EXCLUDED.refunds,
       last_commit = EXCLUDED.last_commit,
       last_prepare = EXCLUDED.last_prepare
 -- The batch already left out what the row counted (aggregateBatch); this keeps a whole
 -- delta seen before from being added twice even so.
 WHERE (t.last_commit, t.last_prepare) < (EXCLUDED.last_commit, EXCLUDED.last_prepare)`;

interface LastRow {
  readonly day: string;
  readonly currency: string;
  readonly last_commit: string;
  readonly last_prepare: string;
}

const wire = (d: RevenueDelta) => ({
  day: d.day,
  currency: d.currency,
  gross: d.gross,
  refunded: d.refunded,
  payments: d.payments,
  refunds: d.refunds,
  last_commit: d.last.commit.toString(),
  last_prepare: d.last.prepare.toString(),
});

async function applyBatch(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const counted = countedEvents(events);
  if (counted.length === 0) return [];
  const { days, currencies } = keysOf(counted);
  const stored = await sql.query<LastRow>(SELECT_LAST, [days, currencies]);
  const storedLast = new Map<string, PositionParts>(
    stored.rows.map((r) => [rowKey(r.day, r.currency), { commit: BigInt(r.last_commit), prepare: BigInt(r.last_prepare) }]),
  );
  const deltas = aggregateBatch(storedLast, counted);
  if (deltas.length > 0) await sql.query(UPSERT_DELTAS, [JSON.stringify(deltas.map(wire))]);
  // Reports publish no realtime changes: dashboards read them over HTTP.
  return [];
}

/** The `reports` read model (schema rm_reports): revenue per UTC day and currency. */
export const reportsProjection: Projection = {
  name: 'reports',
  version: 1,
  eventTypes: REVENUE_EVENT_TYPES,
  schemaSql: REVENUE_SCHEMA_SQL,
  applyBatch,
  async apply(sql, event) {
    await applyBatch(sql, [event]);
    return [];
  },
};
