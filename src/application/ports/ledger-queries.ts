import type { Result } from '../../domain/result.js';
import type { LedgerEntry } from '../ledger/ledger-entry.js';
import type { InvalidCursor } from './payment-queries.js';
import type { Position } from './position.js';

/** A point in the ledger's history: everything up to and including a log position, or an instant. */
export type LedgerAsOf =
  | { readonly kind: 'position'; readonly position: Position }
  | { readonly kind: 'time'; readonly at: Date };

/** Sums of one account (or of the whole ledger) in one currency, in minor units. */
export interface CurrencyTotals {
  readonly currency: string;
  readonly debits: number;
  readonly credits: number;
}

export interface LedgerTotals {
  /**
   * formatPosition of the ledger projection's checkpoint in the same snapshot when no
   * asOf was given (null before its first batch); otherwise the asOf as given.
   */
  readonly checkpoint: string | null;
  readonly data: readonly CurrencyTotals[];
}

export interface ListLedgerEntriesQuery {
  readonly account?: string | undefined;
  readonly paymentId?: string | undefined;
  /** Inclusive lower bound on occurredAt. */
  readonly from?: Date | undefined;
  /** Exclusive upper bound on occurredAt. */
  readonly to?: Date | undefined;
  /** 1..100; default 20; clamped. */
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface LedgerEntryPage {
  /** Newest first (descending log position). */
  readonly data: readonly LedgerEntry[];
  readonly nextCursor: string | null;
}

/** The ledger read model, as the HTTP routes see it. */
export interface LedgerQueries {
  /** One row per currency the account has postings in (only `currency` when given). */
  accountTotals(account: string, currency: string | undefined, asOf: LedgerAsOf | undefined): Promise<LedgerTotals>;
  /** Debits and credits of the whole ledger per currency: equal, always. */
  trialBalance(asOf: LedgerAsOf | undefined): Promise<LedgerTotals>;
  entries(query: ListLedgerEntriesQuery): Promise<Result<LedgerEntryPage, InvalidCursor>>;
}
