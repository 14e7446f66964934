import type { SqlExecutor } from '../../application/ports/sql.js';
import { projectionSchema } from '../projection.js';
import { PAYMENT_INTENTS_PROJECTION } from './payment-intents-projection.js';

/*
 * How many payment requests the processor has not answered yet, and how long the oldest has
 * waited: operators' view of the intent-first backlog (docs/architecture.md, "Intent first"),
 * read from the completer's own table at scrape time.
 */

/** Counting stops here: past it the count says "very many" and the oldest age says how bad. */
export const PAYMENT_REQUEST_COUNT_CAP = 10_000;

export interface PaymentRequestBacklog {
  /** Requests no outcome has answered (at most PAYMENT_REQUEST_COUNT_CAP). */
  readonly pending: number;
  /** Age of the oldest of them, by the database's clock (the completer's clock); 0 when none waits. */
  readonly oldestAgeSeconds: number;
}

const TABLE = `${projectionSchema(PAYMENT_INTENTS_PROJECTION)}.payment_intents`;

// One statement, bounded: the count reads at most the cap's rows, the oldest is one probe of
// the requested_at index (payment_intents_requested); min() over a btree is a single read.
const READ_BACKLOG = `
SELECT (SELECT count(*) FROM (SELECT 1 FROM ${TABLE} LIMIT $1) capped)::integer AS pending,
       coalesce(extract(epoch FROM now() - (SELECT min(requested_at) FROM ${TABLE})), 0)::double precision AS oldest_age_seconds`;

export async function readPaymentRequestBacklog(sql: SqlExecutor): Promise<PaymentRequestBacklog> {
  const { rows } = await sql.query<{ pending: number; oldest_age_seconds: number }>(READ_BACKLOG, [PAYMENT_REQUEST_COUNT_CAP]);
  const row = rows[0];
  if (!row) throw new Error('the payment request backlog query returned no row');
  // A request recorded by a clock ahead of the database's is waiting, not waiting for a negative time.
  return { pending: row.pending, oldestAgeSeconds: Math.max(0, row.oldest_age_seconds) };
}
