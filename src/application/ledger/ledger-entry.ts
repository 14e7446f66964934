import type { CurrencyCode } from '../../domain/currency.js';

/** One side of a journal entry. */
export type PostingSide = 'debit' | 'credit';

export interface LedgerPosting {
  /** A name in the chart of accounts (src/domain/ledger/chart.ts). */
  readonly account: string;
  readonly side: PostingSide;
  /** Integer minor units, > 0. */
  readonly amount: number;
  readonly currency: CurrencyCode;
}

/**
 * One journal entry, caused by exactly one event: its id is that event's id, and it keeps
 * the event's type and log position. This is the shape GET /v1/ledger/entries returns and
 * the `ledger` realtime topic carries.
 */
export interface LedgerEntry {
  readonly id: string;
  readonly object: 'ledger_entry';
  readonly eventId: string;
  readonly eventType: string;
  /** formatPosition of the event. */
  readonly position: string;
  readonly occurredAt: string;
  readonly description: string;
  readonly paymentId: string | null;
  readonly refundId: string | null;
  readonly customerId: string | null;
  readonly postings: readonly LedgerPosting[];
}
