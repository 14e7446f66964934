import type { RefundId } from '../../domain/ids.js';
import { isInvoiceId, isPaymentId, isRefundId, isSubscriptionId, paymentStream, refundStream } from '../../domain/ids.js';
import { CURRENT_SCHEMA_VERSION } from '../../domain/payment/index.js';
import { syncWithProvider } from '../../domain/payment/provider-sync.js';
import type { RefundOutcome } from '../../domain/refund/index.js';
import type { CommandContext } from '../command-context.js';
import { loadPayment } from '../payments/payment-stream.js';
import type { Clock } from '../ports/clock.js';
import type { DisputeCommands } from '../ports/dispute-commands.js';
import type { EventStore, NewEvent } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import type { Appended, RefundSteps, StepActor } from '../refunds/refund-steps.js';
import { loadRefund } from '../refunds/refund-stream.js';
import type { HandledEvent, ProviderEventHandler, ProviderEventInput } from './provider-event-handler.js';
import { ParkEvent } from './provider-event-handler.js';
import { importProviderRefund } from './refund-import.js';
import type { JsonObject } from './stripe-payload.js';
import { eventObject, idField, metadataOf, textField } from './stripe-payload.js';

/*
 * Stripe's events onto our commands (docs: "Stripe webhooks"). Every handler is safe in
 * any order and any number of times, because none of them applies the event's delta: the
 * event says *which* object changed, the handler refetches that object from Stripe and
 * brings ours in line with Stripe's current view (a late or repeated event finds nothing
 * left to do). Writes carry ids derived from the Stripe event id (payments) or from the
 * refund's own events (RefundSteps), so a re-run after a crash is recognised by the event
 * store. Objects we never made (the Stripe dashboard, Stripe Billing) are `ignored` with
 * an outcome that says so, never an error; the exception is a refund made in the
 * dashboard on one of our payments, which is imported (refund-import.ts).
 */

/** Loads and appends on a payment other writers keep changing (each conflict is a fresh load). */
export const PROVIDER_SYNC_MAX_ATTEMPTS = 5;

/** The events this handler acts on; any other type is recorded and ignored. */
export const HANDLED_STRIPE_EVENT_TYPES = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.amount_capturable_updated',
  'charge.refunded',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'invoice.paid',
  'invoice.payment_failed',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

const ACTOR = 'stripe-webhook';

const processed = (outcome: string): HandledEvent => ({ status: 'processed', outcome });
const ignored = (outcome: string): HandledEvent => ({ status: 'ignored', outcome });
const unknownObject = (what: string): HandledEvent => ignored(`unknown object: ${what}`);

export interface StripeEventHandlerDeps {
  readonly store: EventStore;
  readonly provider: PaymentProvider;
  readonly refundSteps: RefundSteps;
  /** Absent in a build without disputes: dispute events are parked (visible, retryable once wired). */
  readonly disputes?: DisputeCommands | undefined;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export class StripeEventHandler implements ProviderEventHandler {
  constructor(private readonly deps: StripeEventHandlerDeps) {}

  async handle(event: ProviderEventInput): Promise<HandledEvent> {
    const object = eventObject(event.payload);
    switch (event.type) {
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled':
      case 'payment_intent.amount_capturable_updated': {
        const id = textField(object, 'id');
        if (!id) throw new ParkEvent(`${event.type} carries no PaymentIntent id`);
        return this.syncPayment(event, id);
      }
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed':
        return this.syncRefund(event, object);
      case 'charge.refunded':
        return this.syncChargeRefunds(event, object);
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed':
        return this.syncDispute(event, object);
      case 'invoice.paid':
      case 'invoice.payment_failed':
        return this.invoice(event, object);
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted':
        return this.subscription(object);
      default:
        return ignored(`event type ${event.type} is not one Ledger acts on`);
    }
  }

  private context(event: ProviderEventInput): CommandContext {
    return {
      correlationId: `stripe:${event.eventId}`,
      causationId: null,
      actor: ACTOR,
      // Stripe's event id is the key and its creation the first sighting: every delivery and retry derives the same ids.
      idempotency: { key: `stripe-event:${event.eventId}`, firstSeenAt: event.createdAt },
    };
  }

  /** Our payment as Stripe sees its PaymentIntent now: captures and cancels made elsewhere are recorded; agreement is a no-op. */
  private async syncPayment(event: ProviderEventInput, providerPaymentId: string): Promise<HandledEvent> {
    const lookup = await this.deps.provider.retrievePayment(providerPaymentId);
    if (lookup.status === 'not_found') return unknownObject(`PaymentIntent ${providerPaymentId} does not exist at Stripe`);
    const view = lookup.value;
    const paymentId = view.metadata.paymentId;
    if (paymentId === undefined || !isPaymentId(paymentId)) return unknownObject(`PaymentIntent ${providerPaymentId} was not made by Ledger (no paymentId in its metadata)`);
    const stream = paymentStream(paymentId);
    for (let attempt = 1; attempt <= PROVIDER_SYNC_MAX_ATTEMPTS; attempt++) {
      const loaded = await loadPayment(this.deps.store, stream);
      if (!loaded.state.exists || loaded.revision === undefined) return unknownObject(`PaymentIntent ${providerPaymentId} names payment ${paymentId}, which Ledger does not have`);
      const decision = syncWithProvider(loaded.state, view);
      switch (decision.kind) {
        case 'in_sync':
          return processed(`payment ${paymentId} already agrees with ${providerPaymentId} (${view.status})`);
        case 'not_final':
          return processed(`payment ${paymentId}: ${providerPaymentId} is ${decision.providerStatus} at Stripe; nothing to record yet`);
        case 'ours_pending':
          // Retried with backoff: the command, a same-key retry or the intent completer records the outcome first.
          throw new Error(`payment ${paymentId}: our own ${decision.operation} request is still with the processor; looking again once its outcome is recorded`);
        case 'diverged':
          throw new ParkEvent(`payment ${paymentId} and ${providerPaymentId} disagree: ${decision.message}`);
        case 'apply': {
          const occurredAt = this.deps.clock.now().toISOString();
          const events: NewEvent[] = decision.events.map((e, i) => ({
            id: this.deps.ids.uuidFrom(`stripe-event\u0000${event.eventId}\u0000payment\u0000${i}`),
            type: e.type,
            data: e.data,
            metadata: { correlationId: `stripe:${event.eventId}`, causationId: null, actor: ACTOR, occurredAt, schemaVersion: CURRENT_SCHEMA_VERSION },
          }));
          try {
            await this.deps.store.append(stream, events, loaded.revision);
          } catch (error) {
            if (error instanceof WrongExpectedVersion) continue;
            throw error;
          }
          return processed(`payment ${paymentId}: recorded ${decision.events.map(describePaymentEvent).join(', ')} from ${providerPaymentId} (${view.status})`);
        }
      }
    }
    throw new Error(`payment ${paymentId} kept changing while syncing it with ${providerPaymentId} (${PROVIDER_SYNC_MAX_ATTEMPTS} attempts)`);
  }

  /**
   * A refund event: the refund's metadata names ours; Stripe's current status of it goes
   * through the refund path's own steps (the outcome, then the payment's reservation), the
   * same writes the refund process manager makes, so whichever comes first, the other finds
   * nothing to do.
   */
  private async syncRefund(event: ProviderEventInput, refund: JsonObject | undefined): Promise<HandledEvent> {
    const providerRefundId = textField(refund, 'id');
    if (!providerRefundId) throw new ParkEvent(`${event.type} carries no refund id`);
    const refundId = metadataOf(refund).refundId;
    // Made at Stripe without us (the dashboard): imported once it has succeeded (refund-import.ts).
    if (refundId === undefined || !isRefundId(refundId)) return importProviderRefund(this.deps, event.eventId, providerRefundId);
    const loaded = await loadRefund(this.deps.store, refundStream(refundId));
    if (!loaded.state.exists) return unknownObject(`refund ${providerRefundId} names refund ${refundId}, which Ledger does not have`);
    const answer = await this.deps.provider.retrieveRefund(providerRefundId);
    if (answer.status === 'pending') return processed(`refund ${refundId}: ${providerRefundId} is still pending at Stripe`);
    const outcome: RefundOutcome = answer.status === 'succeeded' ? answer : { status: 'failed', providerRefundId: answer.providerRefundId, failureReason: answer.failureReason };
    const who = this.stepActor(event);
    const appended: Appended = [];
    if (loaded.state.status === 'pending') {
      await this.deps.refundSteps.recordOutcome(loaded, outcome, who, appended);
    } else if ((loaded.state.status === 'succeeded') !== (outcome.status === 'succeeded')) {
      // We gave up on it (provider_unresolved) and Stripe says otherwise, or the reverse: money is at stake, an operator decides.
      throw new ParkEvent(`refund ${refundId} is ${loaded.state.status} here and ${answer.status} at Stripe (${providerRefundId})`);
    }
    const closed = await this.deps.refundSteps.close(refundId, who, appended);
    if (closed === 'contended') throw new Error(`refund ${refundId}: its payment kept changing while closing the reservation`);
    const final = await loadRefund(this.deps.store, refundStream(refundId));
    const status = final.state.exists ? final.state.status : outcome.status;
    return processed(`refund ${refundId}: ${status} (${providerRefundId})${appended.length === 0 ? ', already recorded' : ''}`);
  }

  /** `charge.refunded`: which refunds is not said (the list is not expanded), so every pending refund of ours on that payment asks Stripe. */
  private async syncChargeRefunds(event: ProviderEventInput, charge: JsonObject | undefined): Promise<HandledEvent> {
    const providerPaymentId = idField(charge, 'payment_intent');
    if (!providerPaymentId) return unknownObject(`charge ${textField(charge, 'id') ?? '?'} has no PaymentIntent (not made by Ledger)`);
    const lookup = await this.deps.provider.retrievePayment(providerPaymentId);
    const paymentId = lookup.status === 'found' ? lookup.value.metadata.paymentId : undefined;
    if (paymentId === undefined || !isPaymentId(paymentId)) return unknownObject(`charge on ${providerPaymentId}, which was not made by Ledger`);
    const payment = await loadPayment(this.deps.store, paymentStream(paymentId));
    if (!payment.state.exists) return unknownObject(`charge on ${providerPaymentId} names payment ${paymentId}, which Ledger does not have`);
    const open = Object.entries(payment.state.refundReservations).filter(([, r]) => r.status === 'open').map(([id]) => id as RefundId);
    const who = this.stepActor(event);
    const settled: string[] = [];
    for (const refundId of open) {
      const appended: Appended = [];
      const asked = await this.deps.refundSteps.askProvider(refundId, who, { retrieve: true }, appended);
      if (asked === 'unavailable') throw new Error(`Stripe unavailable while asking about refund ${refundId}`);
      if (asked === 'final' && (await this.deps.refundSteps.close(refundId, who, appended)) === 'closed') settled.push(refundId);
    }
    const amountRefunded = typeof charge?.amount_refunded === 'number' ? ` (Stripe: ${charge.amount_refunded} refunded in its units)` : '';
    return processed(`payment ${paymentId}: ${open.length} open refund(s) checked, ${settled.length} closed${amountRefunded}`);
  }

  private async syncDispute(event: ProviderEventInput, dispute: JsonObject | undefined): Promise<HandledEvent> {
    const providerDisputeId = textField(dispute, 'id');
    if (!providerDisputeId) throw new ParkEvent(`${event.type} carries no dispute id`);
    if (!this.deps.disputes) throw new ParkEvent(`disputes are not handled by this build; retry ${providerDisputeId} once they are`);
    const lookup = await this.deps.provider.retrieveDispute(providerDisputeId);
    if (lookup.status === 'not_found') return unknownObject(`dispute ${providerDisputeId} does not exist at Stripe`);
    const result = await this.deps.disputes.syncFromProvider(lookup.value, this.context(event));
    if (result.ok) {
      const { disputeId, paymentId, changed } = result.value;
      return processed(`dispute ${disputeId} on payment ${paymentId}: ${lookup.value.status}${changed ? '' : ', already recorded'} (${providerDisputeId})`);
    }
    switch (result.error.code) {
      case 'payment_not_found':
        return unknownObject(`dispute ${providerDisputeId} is on ${result.error.providerPaymentId}, which is not a payment of Ledger's`);
      case 'dispute_inconsistent':
        throw new ParkEvent(`dispute ${providerDisputeId}: ${result.error.message}`);
      case 'concurrency_conflict':
        throw new Error(`dispute ${providerDisputeId}: the payment kept changing (${result.error.attempts} attempts)`);
    }
  }

  /**
   * We bill subscriptions ourselves, so a Stripe invoice is Stripe Billing's, not ours,
   * unless its metadata names one of our invoices: then its PaymentIntent is synced like any.
   */
  private async invoice(event: ProviderEventInput, invoice: JsonObject | undefined): Promise<HandledEvent> {
    const id = textField(invoice, 'id') ?? '?';
    const invoiceId = metadataOf(invoice).invoiceId;
    if (invoiceId === undefined || !isInvoiceId(invoiceId)) return unknownObject(`Stripe invoice ${id} was not made by Ledger (Ledger bills subscriptions itself)`);
    const providerPaymentId = idField(invoice, 'payment_intent');
    if (!providerPaymentId) return ignored(`Stripe invoice ${id} names invoice ${invoiceId} but has no PaymentIntent to sync`);
    const synced = await this.syncPayment(event, providerPaymentId);
    return { status: synced.status, outcome: `invoice ${invoiceId}: ${synced.outcome}` };
  }

  private subscription(subscription: JsonObject | undefined): HandledEvent {
    const id = textField(subscription, 'id') ?? '?';
    const subscriptionId = metadataOf(subscription).subscriptionId;
    if (subscriptionId !== undefined && isSubscriptionId(subscriptionId)) {
      return ignored(`Stripe subscription ${id} names subscription ${subscriptionId}, but Ledger bills its subscriptions itself: nothing to apply`);
    }
    return unknownObject(`Stripe subscription ${id} was not made by Ledger (Ledger bills subscriptions itself)`);
  }

  private stepActor(event: ProviderEventInput): StepActor {
    return { actor: ACTOR, correlationId: `stripe:${event.eventId}` };
  }
}

function describePaymentEvent(e: { type: string; data: unknown }): string {
  const data = e.data as { amount?: number; amountReleased?: number };
  if (e.type === 'PaymentCaptured') return `PaymentCaptured ${data.amount ?? '?'} (released ${data.amountReleased ?? 0})`;
  if (e.type === 'PaymentCanceled') return `PaymentCanceled (released ${data.amountReleased ?? 0})`;
  return e.type;
}
