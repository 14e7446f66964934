import type { InvoiceEvent, InvoiceLine } from '../../domain/invoice/index.js';
import type { BillingReason } from '../../domain/invoice/index.js';
import type { InvoiceId, SubscriptionId } from '../../domain/ids.js';
import type { CurrentPeriod, SubscriptionEvent, SubscriptionPrice } from '../../domain/subscription/index.js';
import type { CurrencyCode } from '../../domain/currency.js';

/*
 * What the billing process manager does about each event (docs/architecture.md,
 * "Subscriptions"), as a pure function so that every rule is tested without a database: a
 * subscription entering a period gets that period's invoice; an issued invoice gets its
 * first payment attempt; an attempt is charged; the invoice's outcome goes back to the
 * subscription; spent dunning ends it as configured. Every action names the ids it will
 * write, derived from the event that caused it (never random), so replaying the log after a
 * crash re-issues the same commands and the appends recognise them: each period is
 * invoiced once and each attempt charged at most once.
 *
 * Time-driven work (renewals at period end, dunning retries at `nextAttemptAt`, incomplete
 * expiry) is the billing clock's, not this function's.
 */

export interface BillingConfig {
  /** What spent dunning does to the subscription: Stripe's default is to cancel. */
  readonly afterDunning: 'cancel' | 'mark_unpaid';
}

export interface InvoiceToIssue {
  readonly subscriptionId: SubscriptionId;
  readonly customerId: string;
  readonly currency: CurrencyCode;
  readonly billingReason: BillingReason;
  readonly lines: readonly InvoiceLine[];
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly testClock: string | null;
  /** What the invoice's id derives from: the subscription and this, so that one cause is one invoice. */
  readonly idSeed: string;
  /** The moment it is issued at: the event's own time on the subscription's clock. */
  readonly at: string;
}

export type BillingAction =
  | { readonly kind: 'issue_invoice'; readonly invoice: InvoiceToIssue }
  | { readonly kind: 'attempt_payment'; readonly invoiceId: InvoiceId; readonly attempt: number; readonly at: string }
  | { readonly kind: 'charge_attempt'; readonly invoiceId: InvoiceId; readonly attempt: number; readonly subscriptionId: SubscriptionId }
  | { readonly kind: 'record_invoice_paid'; readonly subscriptionId: SubscriptionId; readonly invoiceId: InvoiceId }
  | { readonly kind: 'record_invoice_failed'; readonly subscriptionId: SubscriptionId; readonly invoiceId: InvoiceId }
  | { readonly kind: 'exhaust_dunning'; readonly subscriptionId: SubscriptionId; readonly invoiceId: InvoiceId; readonly then: BillingConfig['afterDunning']; readonly at: string }
  | { readonly kind: 'mark_uncollectible'; readonly invoiceId: InvoiceId; readonly at: string }
  /** The invoice seeded `idSeed` of a subscription, voided if it is still unpaid (a paid one stays paid). */
  | { readonly kind: 'void_invoice'; readonly subscriptionId: SubscriptionId; readonly idSeed: string; readonly seedAt: string; readonly at: string }
  /**
   * A prorated cancellation's credit, refunded through the refund path against the payment
   * of the canceled period's invoice; `cancelEventId` keys the refund (once, however often replayed).
   */
  | { readonly kind: 'refund_proration'; readonly subscriptionId: SubscriptionId; readonly periodStart: string; readonly credit: number; readonly cancelEventId: string; readonly at: string };

const describe = (price: SubscriptionPrice): string =>
  `${price.amount} ${price.currency} every ${price.intervalCount === 1 ? '' : `${price.intervalCount} `}${price.interval}${price.intervalCount === 1 ? '' : 's'}`;

function periodInvoice(
  e: { readonly subscriptionId: SubscriptionId; readonly customerId: string },
  price: SubscriptionPrice,
  period: CurrentPeriod & { readonly kind: 'billing' },
  reason: BillingReason,
  testClock: string | null,
  extraLines: readonly InvoiceLine[] = [],
  /**
   * What the invoice's id derives from (with the subscription): a renewal's or creation's
   * period start; for a cycle restarted by a resume or an interval change, the event that
   * restarted it, since several may fall on one instant (and on a renewal's).
   */
  idSeed = `period:${period.start}`,
): BillingAction {
  return {
    kind: 'issue_invoice',
    invoice: {
      subscriptionId: e.subscriptionId,
      customerId: e.customerId,
      currency: price.currency,
      billingReason: reason,
      lines: [...extraLines, { kind: 'subscription', amount: price.amount, description: describe(price), periodStart: period.start, periodEnd: period.end }],
      periodStart: period.start,
      periodEnd: period.end,
      testClock,
      idSeed,
      at: period.start,
    },
  };
}

/**
 * The actions for one subscription event. `context` is the subscription as it stood before
 * the event where the event alone does not say enough (its price and test clock).
 */
export function reactToSubscriptionEvent(
  event: SubscriptionEvent,
  context: { readonly price: SubscriptionPrice; readonly testClock: string | null; readonly currentPeriod?: CurrentPeriod } | undefined,
  /** The recorded event's id: seeds invoices that nothing else makes unique. */
  eventId: string,
): BillingAction[] {
  switch (event.type) {
    case 'SubscriptionCreated': {
      const d = event.data;
      // With a trial, nothing is due until it ends (the clock starts period 0 then).
      return d.currentPeriod.kind === 'billing' ? [periodInvoice(d, d.price, d.currentPeriod, 'subscription_create', d.testClock)] : [];
    }
    case 'SubscriptionPeriodStarted':
      if (!context) throw new Error(`${event.type} of ${event.data.subscriptionId} needs the subscription's price`);
      return [periodInvoice(event.data, context.price, event.data.currentPeriod, 'subscription_cycle', context.testClock)];
    case 'SubscriptionResumed':
      if (!context) throw new Error(`${event.type} of ${event.data.subscriptionId} needs the subscription's price`);
      return [periodInvoice(event.data, context.price, event.data.currentPeriod, 'subscription_resume', context.testClock, [], `resume:${eventId}`)];
    case 'SubscriptionPriceChanged': {
      const d = event.data;
      const testClock = context?.testClock ?? null;
      const credit: InvoiceLine[] =
        d.proration && d.proration.credit > 0
          ? [{ kind: 'proration_credit', amount: -d.proration.credit, description: `Unused time on ${describe(d.previousPrice)}`, periodStart: d.at, periodEnd: d.at }]
          : [];
      if (d.restartedPeriod) return [periodInvoice(d, d.price, d.restartedPeriod.currentPeriod, 'subscription_update', testClock, credit, `restart:${eventId}`)];
      if (!d.proration) return [];
      const charge: InvoiceLine[] =
        d.proration.charge > 0 ? [{ kind: 'proration_charge', amount: d.proration.charge, description: `Remaining time on ${describe(d.price)}`, periodStart: d.at, periodEnd: d.at }] : [];
      const lines = [...credit, ...charge];
      if (lines.length === 0) return [];
      return [
        {
          kind: 'issue_invoice',
          invoice: {
            subscriptionId: d.subscriptionId,
            customerId: d.customerId,
            currency: d.price.currency,
            billingReason: 'subscription_update',
            lines,
            periodStart: d.at,
            periodEnd: d.at,
            testClock,
            idSeed: `price-change:${eventId}`,
            at: d.at,
          },
        },
      ];
    }
    case 'SubscriptionCanceled': {
      const d = event.data;
      const period = context?.currentPeriod;
      if (!d.proration || d.proration.credit <= 0 || period?.kind !== 'billing') return [];
      return [{ kind: 'refund_proration', subscriptionId: d.subscriptionId, periodStart: period.start, credit: d.proration.credit, cancelEventId: eventId, at: d.at }];
    }
    case 'SubscriptionIncompleteExpired': {
      // As Stripe: the first invoice of an expired subscription is voided, so dunning never charges for it.
      const period = context?.currentPeriod;
      if (period?.kind !== 'billing') return [];
      return [{ kind: 'void_invoice', subscriptionId: event.data.subscriptionId, idSeed: `period:${period.start}`, seedAt: period.start, at: event.data.at }];
    }
    default:
      return [];
  }
}

/** The actions for one invoice event. */
export function reactToInvoiceEvent(event: InvoiceEvent, config: BillingConfig): BillingAction[] {
  const d = event.data;
  switch (event.type) {
    case 'InvoiceIssued':
      // A zero total was paid as issued (InvoicePaid follows in the same append).
      return event.data.total > 0 ? [{ kind: 'attempt_payment', invoiceId: d.invoiceId, attempt: 1, at: event.data.issuedAt }] : [];
    case 'InvoicePaymentAttempted':
      return [{ kind: 'charge_attempt', invoiceId: d.invoiceId, attempt: event.data.attempt, subscriptionId: d.subscriptionId }];
    case 'InvoicePaid':
      return [{ kind: 'record_invoice_paid', subscriptionId: d.subscriptionId, invoiceId: d.invoiceId }];
    case 'InvoicePaymentFailed': {
      const failed: BillingAction = { kind: 'record_invoice_failed', subscriptionId: d.subscriptionId, invoiceId: d.invoiceId };
      if (event.data.nextAttemptAt !== null) return [failed];
      return [
        failed,
        { kind: 'exhaust_dunning', subscriptionId: d.subscriptionId, invoiceId: d.invoiceId, then: config.afterDunning, at: event.data.at },
        { kind: 'mark_uncollectible', invoiceId: d.invoiceId, at: event.data.at },
      ];
    }
    case 'InvoiceMarkedUncollectible':
    case 'InvoiceVoided':
      return [];
  }
}
