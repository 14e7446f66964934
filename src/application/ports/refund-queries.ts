import type { RefundStatus, RefundView } from '../refunds/refund-view.js';
import type { Result } from '../../domain/result.js';
import type { InvalidCursor } from './payment-queries.js';

export interface ListRefundsQuery {
  readonly paymentId?: string | undefined;
  readonly customerId?: string | undefined;
  readonly status?: RefundStatus | undefined;
  /** 1..100; default 20; values outside are clamped (the HTTP layer validates first). */
  readonly limit?: number | undefined;
  /** Opaque: a previous page's nextCursor. */
  readonly cursor?: string | undefined;
}

export interface RefundPage {
  /** Newest first. */
  readonly data: readonly RefundView[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export type RefundListResult = Result<RefundPage, InvalidCursor>;

/** The refunds read model, as query handlers and HTTP routes see it. */
export interface RefundQueries {
  get(id: string): Promise<RefundView | undefined>;
  list(query: ListRefundsQuery): Promise<RefundListResult>;
}
