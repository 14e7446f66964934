import type { BillingInterval } from '../billing/recurrence.js';
import type { CurrencyCode } from '../currency.js';
import type { InvoiceId, SubscriptionId } from '../ids.js';

/**
 * Subscription events (stream `subscription-<id>`): past-tense facts, plain JSON, integer
 * minor units, ISO-8601 UTC times. Every event names its subscription and customer, so the
 * ledger, reports and feeds can act on one event without a lookup. Invoices are their own
 * aggregate (`invoice-<id>`); the subscription hears of their outcome through commands a
 * process manager issues (docs/architecture.md, "Subscriptions").
 */

/** Stripe's price, inline: an amount per `intervalCount` × `interval`. */
export interface SubscriptionPrice {
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly interval: BillingInterval;
  readonly intervalCount: number;
}

/** The period the subscription is in: its free trial, or the billing period `index` counted from the anchor. */
export type CurrentPeriod =
  | { readonly kind: 'trial'; readonly start: string; readonly end: string }
  | { readonly kind: 'billing'; readonly index: number; readonly start: string; readonly end: string };

export interface SubscriptionReference {
  readonly subscriptionId: SubscriptionId;
  readonly customerId: string;
}

export interface SubscriptionCreated {
  readonly type: 'SubscriptionCreated';
  readonly data: SubscriptionReference & {
    readonly price: SubscriptionPrice;
    readonly paymentMethod: string;
    /**
     * The processor's customer the payment method is saved to (Stripe `cus_…`): renewals
     * charge it off-session as that customer's. Absent when none, and in events written
     * before it existed (those fold as null).
     */
    readonly providerCustomerId?: string;
    readonly metadata: Readonly<Record<string, string>>;
    /** The test clock the subscription lives on; null for the real clock. */
    readonly testClock: string | null;
    readonly createdAt: string;
    /** `trialing` with a trial; otherwise `incomplete` until its first invoice is paid. */
    readonly status: 'trialing' | 'incomplete';
    readonly trialEnd: string | null;
    /** Where billing periods are counted from: the trial's end, or the creation. */
    readonly billingCycleAnchor: string;
    readonly currentPeriod: CurrentPeriod;
  };
}

/** The subscription moved into its next period (from the trial into the first billing period, or one billing period on). */
export interface SubscriptionPeriodStarted {
  readonly type: 'SubscriptionPeriodStarted';
  readonly data: SubscriptionReference & { readonly currentPeriod: CurrentPeriod & { readonly kind: 'billing' } };
}

/** An invoice was paid: `incomplete`, `trialing`, `past_due` or `unpaid` becomes `active`. */
export interface SubscriptionActivated {
  readonly type: 'SubscriptionActivated';
  readonly data: SubscriptionReference & { readonly invoiceId: InvoiceId };
}

/** A renewal's (or the post-trial) invoice could not be charged: dunning begins. */
export interface SubscriptionPastDue {
  readonly type: 'SubscriptionPastDue';
  readonly data: SubscriptionReference & { readonly invoiceId: InvoiceId };
}

/** Dunning ran out and the configuration says keep it, unpaid, rather than cancel. */
export interface SubscriptionMarkedUnpaid {
  readonly type: 'SubscriptionMarkedUnpaid';
  readonly data: SubscriptionReference & { readonly invoiceId: InvoiceId };
}

/** The first invoice was still unpaid 23 hours after creation. Terminal. */
export interface SubscriptionIncompleteExpired {
  readonly type: 'SubscriptionIncompleteExpired';
  readonly data: SubscriptionReference & { readonly at: string };
}

export type CancellationCause = 'requested' | 'cancel_at_period_end' | 'dunning_exhausted';

/** Terminal. `credit` is the prorated unused part of the period returned to the customer, when asked for. */
export interface SubscriptionCanceled {
  readonly type: 'SubscriptionCanceled';
  readonly data: SubscriptionReference & {
    readonly at: string;
    readonly cause: CancellationCause;
    readonly proration: { readonly credit: number; readonly currency: CurrencyCode; readonly remainingSeconds: number; readonly periodSeconds: number } | null;
  };
}

export interface SubscriptionPaused {
  readonly type: 'SubscriptionPaused';
  readonly data: SubscriptionReference & { readonly at: string };
}

/** Billing starts again from `at`: a new anchor and a new first period, whose invoice is issued at once. */
export interface SubscriptionResumed {
  readonly type: 'SubscriptionResumed';
  readonly data: SubscriptionReference & { readonly at: string; readonly billingCycleAnchor: string; readonly currentPeriod: CurrentPeriod & { readonly kind: 'billing' } };
}

export interface SubscriptionPriceChanged {
  readonly type: 'SubscriptionPriceChanged';
  readonly data: SubscriptionReference & {
    readonly at: string;
    readonly previousPrice: SubscriptionPrice;
    readonly price: SubscriptionPrice;
    /** Credit for the old price's unused time and charge for the new price's, both in the price's currency; null when not prorated. */
    readonly proration: { readonly credit: number; readonly charge: number; readonly remainingSeconds: number; readonly periodSeconds: number } | null;
    /** Set when the interval changed: billing restarts from `at` (a new anchor and period), as Stripe resets the cycle. */
    readonly restartedPeriod: { readonly billingCycleAnchor: string; readonly currentPeriod: CurrentPeriod & { readonly kind: 'billing' } } | null;
  };
}

/** Only the fields that changed. */
export interface SubscriptionUpdated {
  readonly type: 'SubscriptionUpdated';
  readonly data: SubscriptionReference & {
    readonly paymentMethod?: string;
    /** A new processor customer; null removes it. */
    readonly providerCustomerId?: string | null;
    readonly cancelAtPeriodEnd?: boolean;
    readonly metadata?: Readonly<Record<string, string>>;
  };
}

export type SubscriptionEvent =
  | SubscriptionCreated
  | SubscriptionPeriodStarted
  | SubscriptionActivated
  | SubscriptionPastDue
  | SubscriptionMarkedUnpaid
  | SubscriptionIncompleteExpired
  | SubscriptionCanceled
  | SubscriptionPaused
  | SubscriptionResumed
  | SubscriptionPriceChanged
  | SubscriptionUpdated;

export type SubscriptionEventType = SubscriptionEvent['type'];

export const SUBSCRIPTION_EVENT_TYPES: readonly SubscriptionEventType[] = [
  'SubscriptionCreated',
  'SubscriptionPeriodStarted',
  'SubscriptionActivated',
  'SubscriptionPastDue',
  'SubscriptionMarkedUnpaid',
  'SubscriptionIncompleteExpired',
  'SubscriptionCanceled',
  'SubscriptionPaused',
  'SubscriptionResumed',
  'SubscriptionPriceChanged',
  'SubscriptionUpdated',
];
