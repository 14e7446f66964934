import type { RecordedEvent } from '../ports/event-store.js';
import type { DisputeView } from '../disputes/dispute-view.js';
import type { PaymentView } from '../payments/payment-view.js';
import type { RefundView } from '../refunds/refund-view.js';
import type { InvoiceView } from '../subscriptions/invoice-view.js';
import type { SubscriptionView } from '../subscriptions/subscription-view.js';

/*
 * THE table of what merchants' endpoints hear: which domain events (src/domain/<x>/events.ts)
 * become which outbound webhook types (dotted, Stripe-like), and which resource rides in
 * `data`. One row per domain event type; a domain event type with no row produces no
 * delivery (so events another part of the service adds, e.g. PaymentRequested, stay
 * internal until someone adds a row here). A row may still answer "none" for one
 * particular event (an automatically captured payment's authorization).
 *
 * `types` lists every webhook type the row can produce: the fan-out checks it against the
 * endpoints' subscriptions before folding anything, and it makes the catalogue below.
 * `typeOf` picks one from the resource as of that event (the stream folded up to it).
 *
 * To add a resource: add it to WebhookResources, give it a view builder in
 * src/infrastructure/webhooks/webhook-payloads.ts, and add its rows below.
 */

export interface WebhookResources {
  readonly payment: PaymentView;
  readonly refund: RefundView;
  readonly subscription: SubscriptionView;
  readonly invoice: InvoiceView;
  readonly dispute: DisputeView;
}

export type WebhookResource = keyof WebhookResources;

export interface WebhookMappingOf<R extends WebhookResource> {
  readonly resource: R;
  readonly types: readonly string[];
  /** The webhook type for this event, given the resource as it stood right after it; undefined: none. */
  readonly typeOf: (view: WebhookResources[R], event: RecordedEvent) => string | undefined;
}

/** One row of the table, for whichever resource. */
export type WebhookMapping = { readonly [R in WebhookResource]: WebhookMappingOf<R> }[WebhookResource];

const always =
  <R extends WebhookResource>(resource: R, type: string): WebhookMappingOf<R> => ({ resource, types: [type], typeOf: () => type });

const payment = (types: readonly string[], typeOf: (view: PaymentView) => string | undefined): WebhookMappingOf<'payment'> => ({ resource: 'payment', types, typeOf });

export const WEBHOOK_EVENT_MAP: Readonly<Record<string, WebhookMapping>> = {
  // payments (stream payment-<id>)
  // An automatic capture appends PaymentAuthorized and PaymentCaptured together: only the capture is news.
  PaymentAuthorized: payment(['payment.requires_capture'], (p) => (p.captureMethod === 'manual' ? 'payment.requires_capture' : undefined)),
  PaymentCaptured: always('payment', 'payment.succeeded'),
  PaymentFailed: always('payment', 'payment.failed'),
  PaymentCanceled: always('payment', 'payment.canceled'),
  // The money went back: the payment's own status says whether all of it.
  PaymentRefundSettled: payment(['payment.refunded', 'payment.partially_refunded'], (p) => (p.status === 'refunded' ? 'payment.refunded' : 'payment.partially_refunded')),

  // refunds (stream refund-<id>)
  RefundRequested: always('refund', 'refund.created'),
  RefundSucceeded: always('refund', 'refund.succeeded'),
  RefundFailed: always('refund', 'refund.failed'),
  RefundCanceled: always('refund', 'refund.canceled'),

  // subscriptions (stream subscription-<id>)
  SubscriptionCreated: always('subscription', 'subscription.created'),
  SubscriptionPeriodStarted: always('subscription', 'subscription.updated'),
  SubscriptionActivated: always('subscription', 'subscription.updated'),
  SubscriptionPastDue: always('subscription', 'subscription.updated'),
  SubscriptionMarkedUnpaid: always('subscription', 'subscription.updated'),
  SubscriptionIncompleteExpired: always('subscription', 'subscription.updated'),
  SubscriptionPriceChanged: always('subscription', 'subscription.updated'),
  SubscriptionUpdated: always('subscription', 'subscription.updated'),
  SubscriptionPaused: always('subscription', 'subscription.paused'),
  SubscriptionResumed: always('subscription', 'subscription.resumed'),
  SubscriptionCanceled: always('subscription', 'subscription.canceled'),

  // invoices (stream invoice-<id>); InvoicePaymentAttempted is bookkeeping, the payment's own events tell it
  InvoiceIssued: always('invoice', 'invoice.created'),
  InvoicePaid: always('invoice', 'invoice.paid'),
  InvoicePaymentFailed: always('invoice', 'invoice.payment_failed'),
  InvoiceVoided: always('invoice', 'invoice.voided'),
  InvoiceMarkedUncollectible: always('invoice', 'invoice.uncollectible'),

  // disputes (stream dispute-<id>): the processor's view, synced; `dispute.closed` carries won, lost or warning_closed in `status`
  DisputeOpened: always('dispute', 'dispute.created'),
  DisputeUpdated: always('dispute', 'dispute.updated'),
  DisputeClosed: always('dispute', 'dispute.closed'),
};

export const webhookMappingOf = (domainType: string): WebhookMapping | undefined =>
  Object.hasOwn(WEBHOOK_EVENT_MAP, domainType) ? WEBHOOK_EVENT_MAP[domainType] : undefined;

/** Every webhook type we may send, sorted: what an endpoint may subscribe to. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...new Set(Object.values(WEBHOOK_EVENT_MAP).flatMap((m) => m.types))].sort();
