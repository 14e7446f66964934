import type { RevenueReportQuery, RevenueReports, RevenueRow } from '../../application/ports/revenue-reports.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { CalendarDate } from '../../application/reports/calendar-date.js';
import { firstOfMonthAfter, lastOfMonthAfter, maxDate, minDate, monthsInclusive } from '../../application/reports/calendar-date.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { projectionSchema } from '../projection.js';

// Queries run on an ordinary pool, not inside the runner's search_path, so they name the
// live schema; a rebuild swaps schemas in one transaction, so this name always means live.
const TABLE = `${projectionSchema('reports')}.revenue_daily`;

/** Rows per page of a day report: one bounded read at a time, however long the range. */
export const REPORT_PAGE_ROWS = 1_000;
/**
 * Months per read of a month report. A month row sums up to 31 day rows, and there are at
 * most ~180 currency codes, so one read returns at most 12 × 180 rows.
 */
export const MONTHS_PER_READ = 12;

const COLUMNS = `currency, gross::text AS gross, refunded::text AS refunded, payments::text AS payments, refunds::text AS refunds`;

// Each statement is shaped for one index (see revenue-schema.ts): all currencies walk the
// primary key (day, currency) in order; one currency walks (currency, day).
const DAYS_FIRST = `SELECT to_char(day, 'YYYY-MM-DD') AS period, ${COLUMNS} FROM ${TABLE}
 WHERE day >= $1 AND day <= $2 ORDER BY day, currency LIMIT $3`;
const DAYS_NEXT = `SELECT to_char(day, 'YYYY-MM-DD') AS period, ${COLUMNS} FROM ${TABLE}
 WHERE (day, currency) > ($1::date, $4::text) AND day <= $2 ORDER BY day, currency LIMIT $3`;
const CURRENCY_DAYS_FIRST = `SELECT to_char(day, 'YYYY-MM-DD') AS period, ${COLUMNS} FROM ${TABLE}
 WHERE currency = $4 AND day >= $1 AND day <= $2 ORDER BY day LIMIT $3`;
const CURRENCY_DAYS_NEXT = `SELECT to_char(day, 'YYYY-MM-DD') AS period, ${COLUMNS} FROM ${TABLE}
 WHERE currency = $4 AND day > $1 AND day <= $2 ORDER BY day LIMIT $3`;

const MONTH_COLUMNS = `currency, sum(gross)::text AS gross, sum(refunded)::text AS refunded, sum(payments)::text AS payments, sum(refunds)::text AS refunds`;
const MONTHS = `SELECT to_char(day, 'YYYY-MM') AS period, ${MONTH_COLUMNS} FROM ${TABLE}
 WHERE day >= $1 AND day <= $2 GROUP BY 1, currency ORDER BY 1, currency`;
const CURRENCY_MONTHS = `SELECT to_char(day, 'YYYY-MM') AS period, ${MONTH_COLUMNS} FROM ${TABLE}
 WHERE currency = $3 AND day >= $1 AND day <= $2 GROUP BY 1, currency ORDER BY 1, currency`;

/** The statements, by the query shape each serves (the EXPLAIN test checks their plans). */
export const REVENUE_STATEMENTS = {
  daysFirst: DAYS_FIRST,
  daysNext: DAYS_NEXT,
  currencyDaysFirst: CURRENCY_DAYS_FIRST,
  currencyDaysNext: CURRENCY_DAYS_NEXT,
  months: MONTHS,
  currencyMonths: CURRENCY_MONTHS,
} as const;

interface ReportRow {
  readonly period: string;
  readonly currency: CurrencyCode;
  readonly gross: string;
  readonly refunded: string;
  readonly payments: string;
  readonly refunds: string;
}

function exact(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`report ${what} ${text} is outside the exact integer range`);
  return n;
}

export function revenueRowOf(row: ReportRow): RevenueRow {
  const gross = exact(row.gross, 'gross');
  const refunded = exact(row.refunded, 'refunded');
  return {
    period: row.period,
    currency: row.currency,
    gross,
    refunded,
    // Both are exact and non-negative, so their difference is exact too.
    net: gross - refunded,
    payments: exact(row.payments, 'payments'),
    refunds: exact(row.refunds, 'refunds'),
  };
}

/** Reads the reports read model (rm_reports.revenue_daily) in bounded pages. */
export class SqlRevenueReports implements RevenueReports {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly pageRows: number = REPORT_PAGE_ROWS,
  ) {}

  pages(query: RevenueReportQuery): AsyncIterable<readonly RevenueRow[]> {
    return query.granularity === 'day' ? this.dayPages(query) : this.monthPages(query);
  }

  /** Keyset pages: each continues after the last (day, currency) of the one before. */
  private async *dayPages({ from, to, currency }: RevenueReportQuery): AsyncGenerator<readonly RevenueRow[]> {
    let after: ReportRow | undefined;
    // Ends when a page comes back short; each page is at most pageRows, and the range is bounded.
    for (;;) {
      const text = currency === undefined ? (after ? DAYS_NEXT : DAYS_FIRST) : after ? CURRENCY_DAYS_NEXT : CURRENCY_DAYS_FIRST;
      const params: unknown[] = [after ? after.period : from, to, this.pageRows];
      if (currency !== undefined) params.push(currency);
      else if (after) params.push(after.currency);
      const { rows } = await this.sql.query<ReportRow>(text, params);
      if (rows.length > 0) yield rows.map(revenueRowOf);
      if (rows.length < this.pageRows) return;
      after = rows[rows.length - 1];
    }
  }

  /** One grouped read per window of MONTHS_PER_READ calendar months. */
  private async *monthPages({ from, to, currency }: RevenueReportQuery): AsyncGenerator<readonly RevenueRow[]> {
    const months = monthsInclusive(from, to);
    for (let offset = 0; offset < months; offset += MONTHS_PER_READ) {
      const start: CalendarDate = maxDate(from, firstOfMonthAfter(from, offset));
      const end: CalendarDate = minDate(to, lastOfMonthAfter(from, offset + MONTHS_PER_READ - 1));
      const { rows } = currency === undefined
        ? await this.sql.query<ReportRow>(MONTHS, [start, end])
        : await this.sql.query<ReportRow>(CURRENCY_MONTHS, [start, end, currency]);
      if (rows.length > 0) yield rows.map(revenueRowOf);
    }
  }
}
