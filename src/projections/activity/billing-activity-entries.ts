import type { ActivityEntry, ActivityType } from '../../application/ports/activity-feed.js';
import type { BillingReason, InvoiceEvent } from '../../domain/invoice/index.js';
import type { CancellationCause, CurrentPeriod, SubscriptionEvent } from '../../domain/subscription/index.js';
import { formatMinor, formatPrice } from './money-text.js';

/*
 * Subscription and invoice facts as timeline entries (issue 9). Pure, like the payment and
 * refund mapping beside it: each entry comes from its event alone, so a replay writes the
 * same entry. What an event does not carry (a renewal's price, a failed invoice's total) the
 * entry does not show rather than look it up.
 *
 * Left out: a subscription update that only changes metadata (the merchant's bookkeeping,
 * not the customer's), and an invoice's payment attempt (the payment's own entries tell it:
 * authorized, captured or failed).
 */

/** An entry without the fields every entry takes from its event (id, time, position). */
export type EntryFields = Omit<ActivityEntry, 'id' | 'occurredAt' | 'position' | 'type'>;

export interface BillingEntry {
  readonly customerId: string;
  readonly type: ActivityType;
  readonly fields: EntryFields;
}

const entry = (customerId: string, type: ActivityType, fields: EntryFields): BillingEntry => ({ customerId, type, fields });

const period = (p: CurrentPeriod): { periodStart: string; periodEnd: string } => ({ periodStart: p.start, periodEnd: p.end });

const periodText = (start: string, end: string): string => `${start} to ${end}`;

const CANCELED_BECAUSE: Readonly<Record<CancellationCause, string>> = {
  requested: 'Subscription canceled',
  cancel_at_period_end: 'Subscription canceled at the end of its period',
  dunning_exhausted: 'Subscription canceled: payment retries exhausted',
};

export function subscriptionEntry(event: SubscriptionEvent): BillingEntry | undefined {
  const { subscriptionId, customerId } = event.data;
  switch (event.type) {
    case 'SubscriptionCreated': {
      const d = event.data;
      const price = formatPrice(d.price);
      return entry(customerId, 'subscription.created', {
        subscriptionId,
        amount: d.price.amount,
        currency: d.price.currency,
        status: d.status,
        ...period(d.currentPeriod),
        summary: d.status === 'trialing' && d.trialEnd !== null
          ? `Subscription of ${price} started, trial until ${d.trialEnd}`
          : `Subscription of ${price} created, first invoice due now`,
      });
    }
    case 'SubscriptionPeriodStarted': {
      const p = event.data.currentPeriod;
      // Period 0 is entered by a period start only at the end of a trial (without one, the subscription is created in it).
      const what = p.index === 0 ? 'Trial ended, first billing period started' : 'Subscription renewed';
      return entry(customerId, 'subscription.renewed', { subscriptionId, ...period(p), summary: `${what}: ${periodText(p.start, p.end)}` });
    }
    case 'SubscriptionActivated':
      return entry(customerId, 'subscription.activated', {
        subscriptionId, invoiceId: event.data.invoiceId, status: 'active', summary: `Subscription active: invoice ${event.data.invoiceId} paid`,
      });
    case 'SubscriptionPastDue':
      return entry(customerId, 'subscription.past_due', {
        subscriptionId, invoiceId: event.data.invoiceId, status: 'past_due', summary: `Subscription past due: invoice ${event.data.invoiceId} could not be charged`,
      });
    case 'SubscriptionMarkedUnpaid':
      return entry(customerId, 'subscription.unpaid', {
        subscriptionId, invoiceId: event.data.invoiceId, status: 'unpaid', summary: `Subscription unpaid: retries of invoice ${event.data.invoiceId} exhausted`,
      });
    case 'SubscriptionIncompleteExpired':
      return entry(customerId, 'subscription.expired', {
        subscriptionId, status: 'incomplete_expired', summary: 'Subscription expired: its first invoice was not paid within 23 hours',
      });
    case 'SubscriptionCanceled': {
      const { cause, proration } = event.data;
      const summary = CANCELED_BECAUSE[cause];
      if (proration === null) return entry(customerId, 'subscription.canceled', { subscriptionId, status: 'canceled', summary });
      return entry(customerId, 'subscription.canceled', {
        subscriptionId,
        amount: proration.credit,
        currency: proration.currency,
        status: 'canceled',
        summary: `${summary}, ${formatMinor(proration.credit, proration.currency)} credited for unused time`,
      });
    }
    case 'SubscriptionPaused':
      return entry(customerId, 'subscription.paused', { subscriptionId, status: 'paused', summary: 'Subscription paused' });
    case 'SubscriptionResumed': {
      const p = event.data.currentPeriod;
      return entry(customerId, 'subscription.resumed', {
        subscriptionId, status: 'active', ...period(p), summary: `Subscription resumed, billing again from ${p.start}`,
      });
    }
    case 'SubscriptionPriceChanged': {
      const d = event.data;
      const parts = [`Price changed from ${formatPrice(d.previousPrice)} to ${formatPrice(d.price)}`];
      // Both proration amounts are in the (new) price's currency (events.ts).
      if (d.proration !== null) {
        parts.push(`prorated: ${formatMinor(d.proration.credit, d.price.currency)} credit, ${formatMinor(d.proration.charge, d.price.currency)} charge`);
      }
      if (d.restartedPeriod !== null) parts.push(`billing restarts ${periodText(d.restartedPeriod.currentPeriod.start, d.restartedPeriod.currentPeriod.end)}`);
      return entry(customerId, 'subscription.price_changed', {
        subscriptionId,
        amount: d.price.amount,
        currency: d.price.currency,
        ...(d.restartedPeriod === null ? {} : period(d.restartedPeriod.currentPeriod)),
        summary: parts.join('; '),
      });
    }
    case 'SubscriptionUpdated': {
      const d = event.data;
      const parts: string[] = [];
      if (d.cancelAtPeriodEnd === true) parts.push('will cancel at the end of its period');
      if (d.cancelAtPeriodEnd === false) parts.push('will no longer cancel at the end of its period');
      if (d.paymentMethod !== undefined) parts.push('payment method changed');
      if (parts.length === 0) return undefined;
      return entry(customerId, 'subscription.updated', { subscriptionId, summary: `Subscription ${parts.join('; ')}` });
    }
  }
}

const REASON_TEXT: Readonly<Record<BillingReason, string>> = {
  subscription_create: 'new subscription',
  subscription_cycle: 'renewal',
  subscription_update: 'price change',
  subscription_resume: 'resumed subscription',
};

export function invoiceEntry(event: InvoiceEvent): BillingEntry | undefined {
  const { invoiceId, subscriptionId, customerId, currency } = event.data;
  const ids = { subscriptionId, invoiceId };
  switch (event.type) {
    case 'InvoiceIssued': {
      const d = event.data;
      return entry(customerId, 'invoice.issued', {
        ...ids,
        amount: d.total,
        currency,
        status: 'open',
        billingReason: d.billingReason,
        periodStart: d.periodStart,
        periodEnd: d.periodEnd,
        summary: `Invoice of ${formatMinor(d.total, currency)} issued (${REASON_TEXT[d.billingReason]}) for ${periodText(d.periodStart, d.periodEnd)}`,
      });
    }
    case 'InvoicePaymentAttempted':
      return undefined;
    case 'InvoicePaid': {
      const d = event.data;
      return entry(customerId, 'invoice.paid', {
        ...ids,
        ...(d.paymentId === null ? {} : { paymentId: d.paymentId }),
        amount: d.amountPaid,
        currency,
        status: 'paid',
        summary: d.paymentId === null ? 'Invoice paid, nothing was due' : `Invoice paid: ${formatMinor(d.amountPaid, currency)}`,
      });
    }
    case 'InvoicePaymentFailed': {
      const d = event.data;
      const next = d.nextAttemptAt === null ? 'no more attempts' : `next attempt at ${d.nextAttemptAt}`;
      return entry(customerId, 'invoice.payment_failed', {
        ...ids, paymentId: d.paymentId, status: 'open', summary: `Invoice payment attempt ${d.attempt} failed (${d.failureCode}); ${next}`,
      });
    }
    case 'InvoiceMarkedUncollectible':
      return entry(customerId, 'invoice.uncollectible', { ...ids, status: 'uncollectible', summary: 'Invoice marked uncollectible' });
    case 'InvoiceVoided':
      return entry(customerId, 'invoice.voided', { ...ids, status: 'void', summary: 'Invoice voided' });
  }
}
