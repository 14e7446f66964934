import type { SqlExecutor } from '../../../application/ports/sql.js';

/*
 * Retention of the delivery log (README, "Webhooks"): finished deliveries (succeeded, or
 * failed = given up) are deleted with their attempt rows once they have been finished for
 * the retention period, so the two tables hold a bounded window instead of growing with
 * every event. A pending delivery is never deleted, however old (it is the endpoint's
 * queue); nor one that a manual re-send holds right now (CLAIM_ONE claims any status).
 *
 * "Finished at" is updated_at: the sender sets it with the attempt that finished the
 * delivery (and with every later manual re-send), on the service's clock, which is also
 * the clock `now` comes from.
 */

/** Deliveries deleted per statement (their attempt rows go with them, by cascade: ~20 each). */
export const DELIVERY_PRUNE_BATCH = 1_000;
/** Statements per pruning run; whatever is left waits for the next run. */
export const DELIVERY_PRUNE_MAX_BATCHES = 100;

// The rows are locked with SKIP LOCKED on the scan that chooses them, so a delivery a
// re-send claims meanwhile is skipped, and the conditions are re-checked against its
// newest version (a re-sent delivery is pending again, or has a new updated_at).
const PRUNE_FINISHED = `
DELETE FROM webhook_deliveries d
 USING (SELECT seq FROM webhook_deliveries
         WHERE status IN ('succeeded', 'failed') AND updated_at < $1
           AND (lease_expires_at IS NULL OR lease_expires_at <= $2)
         ORDER BY updated_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED) old
 WHERE d.seq = old.seq`;

/**
 * Deletes deliveries finished before `now - retentionDays`, with their attempts, in
 * batches of `DELIVERY_PRUNE_BATCH` (at most `DELIVERY_PRUNE_MAX_BATCHES` of them).
 * Answers how many deliveries were deleted.
 */
export async function pruneFinishedDeliveries(sql: SqlExecutor, now: Date, retentionDays: number, batchSize = DELIVERY_PRUNE_BATCH): Promise<number> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`webhook delivery retention must be a whole number of days ≥ 1, not ${retentionDays}`);
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 3_600_000);
  let deleted = 0;
  for (let batch = 0; batch < DELIVERY_PRUNE_MAX_BATCHES; batch++) {
    const { rowCount } = await sql.query(PRUNE_FINISHED, [cutoff, now, batchSize]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) break;
  }
  return deleted;
}
