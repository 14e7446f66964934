import type { CurrencyCode } from '../../domain/currency.js';
import type { CalendarDate } from '../reports/calendar-date.js';

/** A report row covers one UTC day (`2025-03-14`) or one UTC calendar month (`2025-03`). */
export type ReportGranularity = 'day' | 'month';

export interface RevenueReportQuery {
  /** First UTC day included. */
  readonly from: CalendarDate;
  /** Last UTC day included (`from` ≤ `to`; the HTTP layer bounds the span). */
  readonly to: CalendarDate;
  readonly granularity: ReportGranularity;
  /** Only this currency; absent: every currency. */
  readonly currency?: CurrencyCode | undefined;
}

/**
 * Money moved in one period and currency, in integer minor units. Periods and currencies
 * with nothing captured or refunded have no row (a report lists what happened).
 */
export interface RevenueRow {
  /** `YYYY-MM-DD` for days, `YYYY-MM` for months (UTC). */
  readonly period: string;
  readonly currency: CurrencyCode;
  /** Captured (PaymentCaptured amounts). */
  readonly gross: number;
  /** Given back (RefundSucceeded amounts). */
  readonly refunded: number;
  /** gross − refunded; negative when a period refunded more than it captured. */
  readonly net: number;
  /** Captures counted. */
  readonly payments: number;
  /** Succeeded refunds counted. */
  readonly refunds: number;
}

/** The revenue read model, as the HTTP layer sees it. */
export interface RevenueReports {
  /**
   * The rows of `query` in (period, currency) order, as bounded pages read one after
   * another, so a caller can stream a long range without holding it all. Never yields an
   * empty page.
   */
  pages(query: RevenueReportQuery): AsyncIterable<readonly RevenueRow[]>;
}
