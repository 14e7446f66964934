/**
 * `rm_reports.revenue_daily`: one row per UTC day and currency that captured or refunded
 * anything. Totals are integer minor units; net is gross − refunded, computed on read.
 *
 * Indexes, one per query shape (src/projections/reports/revenue-queries.ts):
 * - the primary key (day, currency) serves every report over all currencies: a range
 *   scan on day, already in (period, currency) order, keyset pages continuing from
 *   (day, currency); and the batch's read of stored positions by (day, currency).
 * - revenue_daily_currency_day (currency, day) serves a report filtered to one currency:
 *   an equality on currency and a range on day, in day order.
 * Month reports read the same ranges and group them.
 */
export const REVENUE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS revenue_daily (
  day date NOT NULL,
  currency text COLLATE "C" NOT NULL CONSTRAINT revenue_daily_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
  gross bigint NOT NULL CONSTRAINT revenue_daily_gross_non_negative CHECK (gross >= 0),
  refunded bigint NOT NULL CONSTRAINT revenue_daily_refunded_non_negative CHECK (refunded >= 0),
  payments bigint NOT NULL CONSTRAINT revenue_daily_payments_non_negative CHECK (payments >= 0),
  refunds bigint NOT NULL CONSTRAINT revenue_daily_refunds_non_negative CHECK (refunds >= 0),
  -- The last event counted in this row (log order): a replayed event at or before it is not added again.
  last_commit numeric(20,0) NOT NULL,
  last_prepare numeric(20,0) NOT NULL,
  PRIMARY KEY (day, currency)
);
CREATE INDEX IF NOT EXISTS revenue_daily_currency_day ON revenue_daily (currency, day);
`;
