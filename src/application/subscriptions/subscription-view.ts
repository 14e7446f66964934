import type { CurrencyCode } from '../../domain/currency.js';
import type { SubscriptionId } from '../../domain/ids.js';
import type { BillingInterval } from '../../domain/billing/recurrence.js';
import type { ExistingSubscription, SubscriptionStatus } from '../../domain/subscription/index.js';

/**
 * A subscription as the API shows it: the body of GET /v1/subscriptions/:id, of list pages
 * and command answers, and the `data` of realtime `subscription.*` changes. One shape, as
 * for payments, so a change's data is what GET answers at its position (docs/architecture.md,
 * "Subscriptions"). Stripe's fields in this API's conventions (camelCase, `customerId`).
 */
export interface SubscriptionView {
  readonly id: SubscriptionId;
  readonly object: 'subscription';
  readonly status: SubscriptionStatus;
  readonly customerId: string;
  readonly price: { readonly amount: number; readonly currency: CurrencyCode; readonly interval: BillingInterval; readonly intervalCount: number };
  readonly paymentMethod: string;
  /** The processor's customer the payment method is saved to; null when none. */
  readonly providerCustomerId: string | null;
  readonly currentPeriodStart: string;
  readonly currentPeriodEnd: string;
  readonly billingCycleAnchor: string;
  readonly trialStart: string | null;
  readonly trialEnd: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: string | null;
  readonly pausedAt: string | null;
  readonly testClock: string | null;
  /** The newest invoice issued for it: the billing read model keeps it, the aggregate does not. */
  readonly latestInvoice: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  readonly createdAt: string;
}

export function toSubscriptionView(s: ExistingSubscription, revision: bigint, latestInvoice: string | null): SubscriptionView {
  // Field by field, in the order of the JSON that clients see.
  return {
    id: s.subscriptionId,
    object: 'subscription',
    status: s.status,
    customerId: s.customerId,
    price: { amount: s.price.amount, currency: s.price.currency, interval: s.price.interval, intervalCount: s.price.intervalCount },
    paymentMethod: s.paymentMethod,
    providerCustomerId: s.providerCustomerId ?? null,
    currentPeriodStart: s.currentPeriod.start,
    currentPeriodEnd: s.currentPeriod.end,
    billingCycleAnchor: s.billingCycleAnchor,
    // Stripe's trial starts when the subscription does; without a trial there is none.
    trialStart: s.trialEnd === null ? null : s.createdAt,
    trialEnd: s.trialEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    canceledAt: s.canceledAt,
    pausedAt: s.pausedAt,
    testClock: s.testClock,
    latestInvoice,
    metadata: s.metadata,
    revision: revision.toString(),
    createdAt: s.createdAt,
  };
}

/**
 * Which of two invoices of one subscription is its latest: invoice ids are time-ordered on
 * the subscription's clock (by the period or change they bill), so the greater id in byte
 * order (the read model's COLLATE "C") is the newer.
 */
export function laterInvoice(current: string | null, issued: string): string {
  return current !== null && current > issued ? current : issued;
}
