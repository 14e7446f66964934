import type { MrrQuery, MrrReports, MrrRow } from '../../application/ports/mrr-reports.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { MinorFraction } from '../../domain/subscription/mrr.js';
import { mrrFigures } from '../../domain/subscription/mrr.js';
import { projectionSchema } from '../projection.js';
import { SUBSCRIPTION_METRICS_PROJECTION } from './subscription-metrics-projection.js';

// Queries run on an ordinary pool, so they name the live schema (a rebuild swaps schemas atomically).
const INTERVALS = `${projectionSchema(SUBSCRIPTION_METRICS_PROJECTION)}.mrr_intervals`;

/** Instants per query: a history is at most this many months (the HTTP layer bounds it the same). */
export const MAX_MRR_INSTANTS = 120;

/*
 * One statement for every instant of a report. The first half finds the intervals in force
 * at each instant (GiST on `during`, partial on the statuses counted) and sums their monthly
 * amounts per (instant, currency, denominator): denominators come from periodsPerMonth, so
 * there are few of them, and the exact sum over them is done in BigInt (mrrFigures). The
 * second half counts churn rows (partial index on valid_from) from each instant's month
 * start up to it. The status lists here must match the partial index predicate
 * (mrr-schema.ts) and MRR_STATUSES (domain/subscription/mrr.ts).
 */
const SNAPSHOTS = `
WITH k AS (
  SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::timestamptz[]) AS k(n, month_start, at)
)
SELECT k.n, i.currency, i.mrr_denominator AS denominator,
       coalesce(sum(i.mrr_numerator) FILTER (WHERE i.status IN ('active', 'past_due')), 0)::text AS numerator,
       count(*) FILTER (WHERE i.status = 'active')::int AS active,
       count(*) FILTER (WHERE i.status = 'trialing')::int AS trialing,
       count(*) FILTER (WHERE i.status = 'past_due')::int AS past_due,
       0 AS churned
  FROM k JOIN ${INTERVALS} i ON i.during @> k.at
 WHERE i.status IN ('active', 'past_due', 'trialing')
   AND ($4::text IS NULL OR i.currency = $4)
   AND (CASE WHEN $5::text IS NULL THEN i.test_clock IS NULL ELSE i.test_clock = $5 END)
 GROUP BY k.n, i.currency, i.mrr_denominator
UNION ALL
SELECT k.n, i.currency, 1 AS denominator, '0' AS numerator, 0, 0, 0, count(*)::int AS churned
  FROM k JOIN ${INTERVALS} i ON i.churned AND i.valid_from >= k.month_start AND i.valid_from <= k.at
 WHERE ($4::text IS NULL OR i.currency = $4)
   AND (CASE WHEN $5::text IS NULL THEN i.test_clock IS NULL ELSE i.test_clock = $5 END)
 GROUP BY k.n, i.currency`;

interface SnapshotRow {
  readonly n: number;
  readonly currency: CurrencyCode;
  readonly denominator: number;
  readonly numerator: string;
  readonly active: number;
  readonly trialing: number;
  readonly past_due: number;
  readonly churned: number;
}

interface Accumulated {
  readonly contributions: MinorFraction[];
  active: number;
  trialing: number;
  pastDue: number;
  churned: number;
}

function exact(value: bigint, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`MRR ${what} ${value} is outside the exact integer range`);
  return n;
}

/** Reads the subscription metrics read model (rm_subscription_metrics). */
export class SqlMrrReports implements MrrReports {
  constructor(private readonly sql: SqlExecutor) {}

  async snapshots({ instants, currency, testClock }: MrrQuery): Promise<readonly MrrRow[]> {
    if (instants.length > MAX_MRR_INSTANTS) throw new RangeError(`at most ${MAX_MRR_INSTANTS} instants per MRR query (asked for ${instants.length})`);
    if (instants.length === 0) return [];
    const { rows } = await this.sql.query<SnapshotRow>(SNAPSHOTS, [
      instants.map((_, n) => n),
      instants.map((i) => i.monthStart.toISOString()),
      instants.map((i) => i.at.toISOString()),
      currency ?? null,
      testClock,
    ]);
    const perInstant = instants.map(() => new Map<string, Accumulated>());
    for (const row of rows) {
      const byCurrency = perInstant[row.n] as Map<string, Accumulated>;
      let acc = byCurrency.get(row.currency);
      if (!acc) byCurrency.set(row.currency, (acc = { contributions: [], active: 0, trialing: 0, pastDue: 0, churned: 0 }));
      acc.contributions.push({ numerator: BigInt(row.numerator), denominator: BigInt(row.denominator) });
      acc.active += row.active;
      acc.trialing += row.trialing;
      acc.pastDue += row.past_due;
      acc.churned += row.churned;
    }
    return instants.flatMap((instant, n) => {
      const byCurrency = perInstant[n] as Map<string, Accumulated>;
      if (currency !== undefined && !byCurrency.has(currency)) byCurrency.set(currency, { contributions: [], active: 0, trialing: 0, pastDue: 0, churned: 0 });
      return [...byCurrency.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([code, acc]): MrrRow => {
          const figures = mrrFigures(acc.contributions);
          return {
            label: instant.label,
            currency: code as CurrencyCode,
            mrr: exact(figures.mrr, 'mrr'),
            arr: exact(figures.arr, 'arr'),
            active: acc.active,
            trialing: acc.trialing,
            pastDue: acc.pastDue,
            churnedThisMonth: acc.churned,
          };
        });
    });
  }
}
