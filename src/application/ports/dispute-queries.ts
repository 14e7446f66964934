import type { DisputeStatus } from '../../domain/dispute/events.js';
import type { Result } from '../../domain/result.js';
import type { DisputeView, PaymentDisputeSummary } from '../disputes/dispute-view.js';
import type { InvalidCursor } from './payment-queries.js';

export interface ListDisputesQuery {
  readonly paymentId?: string | undefined;
  readonly customerId?: string | undefined;
  readonly status?: DisputeStatus | undefined;
  /** 1..100; default 20; values outside are clamped (the HTTP layer validates first). */
  readonly limit?: number | undefined;
  /** Opaque: a previous page's nextCursor. */
  readonly cursor?: string | undefined;
}

export interface DisputePage {
  /** Newest first. */
  readonly data: readonly DisputeView[];
  readonly nextCursor: string | null;
}

/** The disputes read model, as query handlers and HTTP routes see it. */
export interface DisputeQueries {
  get(id: string): Promise<DisputeView | undefined>;
  list(query: ListDisputesQuery): Promise<Result<DisputePage, InvalidCursor>>;
  /** Each payment's disputes, oldest first; a payment without any is absent from the map. */
  forPayments(paymentIds: readonly string[]): Promise<ReadonlyMap<string, readonly PaymentDisputeSummary[]>>;
}

/**
 * Which of our payments has a processor id (the PaymentIntent at Stripe). Answers from a
 * read model, so it may lag the log: an adapter answers "none" only after it has caught up
 * with the log as it was when asked (or a bounded wait ran out), so a dispute that arrives
 * right after its payment's authorization still finds it.
 */
export interface ProviderPaymentIndex {
  paymentIdFor(providerPaymentId: string): Promise<string | undefined>;
}
