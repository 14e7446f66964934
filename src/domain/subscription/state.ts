import type { CurrentPeriod, SubscriptionPrice, SubscriptionReference } from './events.js';

/** Stripe's statuses and meanings (docs/architecture.md, "Subscriptions"). */
export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'incomplete' | 'incomplete_expired' | 'paused';

/** Nothing leaves these. */
export const SUBSCRIPTION_TERMINAL_STATUSES: readonly SubscriptionStatus[] = ['canceled', 'incomplete_expired'];

/** Stripe lets an incomplete subscription's first invoice be paid for 23 hours. */
export const INCOMPLETE_EXPIRY_MS = 23 * 60 * 60 * 1000;

export interface ExistingSubscription extends SubscriptionReference {
  readonly exists: true;
  readonly status: SubscriptionStatus;
  readonly price: SubscriptionPrice;
  readonly paymentMethod: string;
  /** The processor's customer the payment method is saved to; absent (none) in a state folded before it existed. */
  readonly providerCustomerId?: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly testClock: string | null;
  readonly createdAt: string;
  readonly trialEnd: string | null;
  readonly billingCycleAnchor: string;
  readonly currentPeriod: CurrentPeriod;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt: string | null;
  readonly pausedAt: string | null;
}

export type SubscriptionState = { readonly exists: false } | ExistingSubscription;

export const initialSubscriptionState: SubscriptionState = { exists: false };

export const isTerminal = (status: SubscriptionStatus): boolean => SUBSCRIPTION_TERMINAL_STATUSES.includes(status);
