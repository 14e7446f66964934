import type { ExistingInvoice, InvoiceStatus } from '../../domain/invoice/index.js';
import type { Result } from '../../domain/result.js';
import type { ExistingSubscription, SubscriptionStatus } from '../../domain/subscription/index.js';
import type { InvalidCursor } from './payment-queries.js';

/** A subscription as the read model holds it: the aggregate's own fold, the revision it is at, and its newest invoice. */
export interface SubscriptionRecord {
  readonly state: ExistingSubscription;
  readonly revision: bigint;
  /** The newest invoice issued for it (its `latestInvoice`); null until the first. */
  readonly latestInvoice: string | null;
}

export interface InvoiceRecord {
  readonly state: ExistingInvoice;
  readonly revision: bigint;
}

export interface Page<T> {
  /** Newest first. */
  readonly data: readonly T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface ListSubscriptionsQuery {
  readonly customerId?: string;
  readonly status?: SubscriptionStatus;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ListInvoicesQuery {
  readonly subscriptionId?: string;
  readonly customerId?: string;
  readonly status?: InvoiceStatus;
  readonly limit?: number;
  readonly cursor?: string;
}

/** The billing read model (subscriptions and invoices), as the HTTP routes see it. */
export interface BillingQueries {
  subscription(id: string): Promise<SubscriptionRecord | undefined>;
  invoice(id: string): Promise<InvoiceRecord | undefined>;
  subscriptions(query: ListSubscriptionsQuery): Promise<Result<Page<SubscriptionRecord>, InvalidCursor>>;
  invoices(query: ListInvoicesQuery): Promise<Result<Page<InvoiceRecord>, InvalidCursor>>;
  /** The newest invoice of each of these subscriptions that has one (a subscription's `latestInvoice`, as its record holds it). */
  latestInvoiceIds(subscriptionIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
}
