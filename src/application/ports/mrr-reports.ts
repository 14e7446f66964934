import type { CurrencyCode } from '../../domain/currency.js';

/**
 * One point a report reads MRR at: the subscriptions in force at `at`, and those churned
 * from `monthStart` (the first instant of at's UTC month) up to `at`, both included.
 */
export interface MrrInstant {
  /** Names the row: `YYYY-MM` for history, anything for a single report. */
  readonly label: string;
  readonly monthStart: Date;
  readonly at: Date;
}

export interface MrrQuery {
  /** At most MAX_MRR_INSTANTS. */
  readonly instants: readonly MrrInstant[];
  /** Only this currency (and then a row for it at every instant, zeros included); absent: every currency with something to show. */
  readonly currency?: CurrencyCode | undefined;
  /** null: real-clock subscriptions only; an id: only that test clock's subscriptions. */
  readonly testClock: string | null;
}

/** MRR figures at one instant in one currency: money in integer minor units, counts of subscriptions. */
export interface MrrRow {
  readonly label: string;
  readonly currency: CurrencyCode;
  /** Σ amount × periodsPerMonth over active and past_due subscriptions, summed exactly, rounded half up once. */
  readonly mrr: number;
  /** 12 × the exact sum, rounded half up once (not 12 × mrr). */
  readonly arr: number;
  readonly active: number;
  readonly trialing: number;
  readonly pastDue: number;
  /** Subscriptions canceled from active or past_due between monthStart and at. */
  readonly churnedThisMonth: number;
}

/** The subscription metrics read model, as the HTTP layer sees it. */
export interface MrrReports {
  /** Rows in (instant order, currency) order. */
  snapshots(query: MrrQuery): Promise<readonly MrrRow[]>;
}
