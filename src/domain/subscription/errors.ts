import type { SubscriptionEvent } from './events.js';
import type { SubscriptionStatus } from './state.js';

/** Every way a subscription command can be refused. */
export type SubscriptionError =
  | { readonly code: 'subscription_already_exists'; readonly subscriptionId: string }
  | { readonly code: 'subscription_not_found'; readonly subscriptionId: string }
  /** Canceled and incomplete_expired subscriptions stay so. */
  | { readonly code: 'subscription_ended'; readonly subscriptionId: string; readonly status: SubscriptionStatus }
  | { readonly code: 'illegal_subscription_transition'; readonly subscriptionId: string; readonly from: SubscriptionStatus; readonly command: string }
  /** A price change must keep the currency (Stripe refuses mixing currencies on one subscription). */
  | { readonly code: 'subscription_currency_mismatch'; readonly subscriptionId: string; readonly currency: string; readonly requested: string }
  /** The billing clock asked too early: nothing is due before `dueAt`. */
  | { readonly code: 'subscription_not_due'; readonly subscriptionId: string; readonly dueAt: string }
  | { readonly code: 'invalid_trial'; readonly message: string };

/** An event that cannot follow the subscription's state: a corrupt or misrouted stream, thrown, never skipped. */
export class SubscriptionEventNotApplicable extends Error {
  override readonly name = 'SubscriptionEventNotApplicable';
  constructor(
    readonly event: SubscriptionEvent,
    readonly reason: 'not_created' | 'already_created' | 'ended' | 'other_subscription',
    detail: string,
  ) {
    super(`${event.type} cannot apply to subscription ${event.data.subscriptionId}: ${detail}`);
  }
}
