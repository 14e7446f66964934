import type { SqlExecutor } from '../../application/ports/sql.js';
import type { DueWorkSource } from '../../application/subscriptions/billing-clock.js';
import type { DueWork } from '../../application/subscriptions/billing-schedule.js';
import type { InvoiceId, SubscriptionId } from '../../domain/ids.js';
import { isoOf } from '../row-values.js';
import { projectionSchema } from '../projection.js';
import { BILLING_PROJECTION } from './billing-projection.js';

const SCHEMA = projectionSchema(BILLING_PROJECTION);

/*
 * What is due on one clock by a time, earliest first; at one instant retries before
 * expiries before renewals, then ids (the order dueBy() gives, billing-schedule.ts).
 * `test_clock IS NOT DISTINCT FROM $1`: null is the real clock.
 */
const DUE_SQL = `
SELECT kind, id, attempt, due_at, test_clock FROM (
  SELECT s.due_kind AS kind, s.id, NULL::integer AS attempt, s.due_at, s.test_clock,
         CASE s.due_kind WHEN 'expire_incomplete' THEN 1 ELSE 2 END AS rank
    FROM ${SCHEMA}.subscriptions s
   WHERE s.due_at IS NOT NULL AND s.due_at <= $2 AND s.test_clock IS NOT DISTINCT FROM $1
  UNION ALL
  SELECT 'retry_invoice', i.id, i.due_attempt, i.due_at, i.test_clock, 0
    FROM ${SCHEMA}.invoices i
   WHERE i.due_at IS NOT NULL AND i.due_at <= $2 AND i.test_clock IS NOT DISTINCT FROM $1
) due
ORDER BY due_at, rank, id
LIMIT $3`;

interface DueRow {
  readonly kind: DueWork['kind'];
  readonly id: string;
  readonly attempt: number | null;
  readonly due_at: Date | string;
  readonly test_clock: string | null;
}

/** DueWorkSource over the billing read model; as current as its checkpoint. */
export class SqlDueWorkSource implements DueWorkSource {
  constructor(private readonly sql: SqlExecutor) {}

  async dueWork(testClock: string | null, until: Date, limit: number): Promise<readonly DueWork[]> {
    const { rows } = await this.sql.query<DueRow>(DUE_SQL, [testClock, until.toISOString(), limit]);
    return rows.map((r): DueWork => {
      const dueAt = isoOf(r.due_at);
      if (r.kind === 'retry_invoice') return { kind: r.kind, invoiceId: r.id as InvoiceId, attempt: r.attempt ?? 1, dueAt, testClock: r.test_clock };
      return { kind: r.kind, subscriptionId: r.id as SubscriptionId, dueAt, testClock: r.test_clock };
    });
  }
}
