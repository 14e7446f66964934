import type { PaymentStatus } from '../../domain/payment/index.js';
import type { Result } from '../../domain/result.js';
import type { PaymentView } from '../payments/payment-view.js';

export interface ListPaymentsQuery {
  readonly customerId?: string | undefined;
  readonly status?: PaymentStatus | undefined;
  /** 1..100; default 20; values outside are clamped (the HTTP layer validates first). */
  readonly limit?: number | undefined;
  /** Opaque: a previous page's nextCursor. */
  readonly cursor?: string | undefined;
}

export interface PaymentPage {
  /** Newest first. */
  readonly data: readonly PaymentView[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** A cursor we did not issue (or for another listing): the caller's mistake, not a crash. */
export interface InvalidCursor {
  readonly code: 'invalid_cursor';
  readonly message: string;
}

export type PaymentListResult = Result<PaymentPage, InvalidCursor>;

/** The payments read model, as query handlers and HTTP routes see it. */
export interface PaymentQueries {
  get(id: string): Promise<PaymentView | undefined>;
  list(query: ListPaymentsQuery): Promise<PaymentListResult>;
}
