import type { InvoiceCommand, InvoiceError, InvoiceState } from '../../domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS } from '../../domain/invoice/index.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../domain/ids.js';
import { invoiceStream, subscriptionStream } from '../../domain/ids.js';
import { moneyOf } from '../../domain/money.js';
import type { CommandContext } from '../command-context.js';
import type { DecideResult, Writer } from '../aggregates/aggregate-stream.js';
import { decideAndAppend, loadAggregate } from '../aggregates/aggregate-stream.js';
import { derivedPaymentId } from '../payments/payment-command-handlers.js';
import type { EventStore } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import { isAfter } from '../ports/position.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentCommands } from '../ports/payment-commands.js';
import type { BillingAction, BillingConfig } from './billing-reactions.js';
import { reactToSubscriptionEvent } from './billing-reactions.js';
import type { RefundCommands } from '../ports/refund-commands.js';
import type { SubscriptionState } from '../../domain/subscription/index.js';
import { evolveSubscription, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import { INVOICE, SUBSCRIPTION } from './subscription-aggregate.js';
import type { SubscriptionCommandHandlers, SystemCause } from './subscription-command-handlers.js';

/*
 * Carries out the billing process manager's actions (billing-reactions.ts). Every step is
 * safe to run again: ids derive from the cause, and deciders that find the work done decide
 * nothing (docs/architecture.md, "Subscriptions").
 */

export const BILLING_ACTOR = 'billing';

/**
 * How a step ended: done (or found done), or left for a later run (the processor could not
 * be reached). `position` is the newest write the step made or found (undefined when it was
 * refused as already done): a settle waits until its reader has passed it.
 */
export type StepOutcome = { readonly kind: 'done'; readonly position: Position | undefined } | { readonly kind: 'retry_later'; readonly reason: string };

export interface BillingStepsConfig extends BillingConfig {
  readonly retryScheduleDays: readonly number[];
}

export const DEFAULT_BILLING_CONFIG: BillingStepsConfig = { afterDunning: 'cancel', retryScheduleDays: DEFAULT_RETRY_SCHEDULE_DAYS };

const MAX_ATTEMPTS = 5;

type StepResult = { readonly ok: true; readonly value: { readonly position: Position | undefined } } | { readonly ok: false; readonly error: { readonly code: string } };

/** The later of two positions (either may be unknown). */
export const laterPosition = (a: Position | undefined, b: Position | undefined): Position | undefined => (a === undefined ? b : b === undefined || !isAfter(b, a) ? a : b);
const DONE: StepOutcome = { kind: 'done', position: undefined };

/** What the steps act through: the log, the subscription commands, and the payments and refunds paths. */
export interface BillingStepsDeps {
  readonly store: EventStore;
  readonly subscriptions: SubscriptionCommandHandlers;
  readonly payments: PaymentCommands;
  readonly refunds: RefundCommands;
  readonly ids: IdGenerator;
}

export class BillingSteps {
  private readonly store: EventStore;
  private readonly subscriptions: SubscriptionCommandHandlers;
  private readonly payments: PaymentCommands;
  private readonly refunds: RefundCommands;
  private readonly ids: IdGenerator;

  constructor(
    deps: BillingStepsDeps,
    private readonly config: BillingStepsConfig = DEFAULT_BILLING_CONFIG,
  ) {
    ({ store: this.store, subscriptions: this.subscriptions, payments: this.payments, refunds: this.refunds, ids: this.ids } = deps);
  }

  /** The invoice id for a subscription's invoice with this seed (a period start, a change time). */
  invoiceIdFor(subscriptionId: string, seed: string, at: string): InvoiceId {
    return this.ids.deterministic('in_', `${subscriptionId}\u0000${seed}`, new Date(at)) as InvoiceId;
  }

  /** The context a charge of `attempt` runs under: its key, hence its payment's id, derive from the invoice and the attempt. */
  chargeContext(invoiceId: InvoiceId, attempt: number, attemptedAt: string, cause: SystemCause): CommandContext {
    return {
      actor: BILLING_ACTOR,
      correlationId: cause.correlationId,
      causationId: cause.causationId,
      customerScope: null,
      idempotency: { key: `${invoiceId}:attempt:${attempt}`, firstSeenAt: new Date(attemptedAt) },
    };
  }

  async execute(action: BillingAction, cause: SystemCause): Promise<StepOutcome> {
    switch (action.kind) {
      case 'issue_invoice': {
        const i = action.invoice;
        const invoiceId = this.invoiceIdFor(i.subscriptionId, i.idSeed, i.at);
        const issued = await this.invoice(invoiceId, cause, () => ({
          type: 'IssueInvoice',
          invoice: { invoiceId, subscriptionId: i.subscriptionId, customerId: i.customerId, currency: i.currency },
          billingReason: i.billingReason,
          lines: i.lines,
          periodStart: i.periodStart,
          periodEnd: i.periodEnd,
          testClock: i.testClock,
          now: new Date(i.at),
        }));
        return this.settled(issued, ['invoice_already_exists'], invoiceId);
      }
      case 'attempt_payment': {
        const paymentId = this.attemptPaymentId(action.invoiceId, action.attempt, action.at, cause);
        const attempted = await this.invoice(action.invoiceId, cause, () => ({ type: 'AttemptInvoicePayment', invoiceId: action.invoiceId, attempt: action.attempt, paymentId, now: new Date(action.at) }));
        // Paid meanwhile (another path), or this attempt's place already taken: nothing to do.
        return this.settled(attempted, ['invoice_final', 'invoice_attempt_out_of_order'], action.invoiceId);
      }
      case 'charge_attempt':
        return this.charge(action.invoiceId, action.attempt, cause);
      case 'record_invoice_paid':
        return this.subscriptionStep(await this.subscriptions.recordInvoicePaid(action.subscriptionId, action.invoiceId, cause));
      case 'record_invoice_failed':
        return this.subscriptionStep(await this.subscriptions.recordInvoicePaymentFailed(action.subscriptionId, action.invoiceId, cause));
      case 'exhaust_dunning':
        return this.subscriptionStep(await this.subscriptions.exhaustDunning(action.subscriptionId, action.invoiceId, action.then, new Date(action.at), cause));
      case 'void_invoice': {
        const invoiceId = this.invoiceIdFor(action.subscriptionId, action.idSeed, action.seedAt);
        // Never issued, or paid meanwhile: nothing to void.
        return this.settled(await this.invoice(invoiceId, cause, () => ({ type: 'VoidInvoice', invoiceId, now: new Date(action.at) })), ['invoice_not_found', 'invoice_final'], invoiceId);
      }
      case 'mark_uncollectible':
        return this.settled(await this.invoice(action.invoiceId, cause, () => ({ type: 'MarkInvoiceUncollectible', invoiceId: action.invoiceId, now: new Date(action.at) })), ['invoice_final'], action.invoiceId);
      case 'refund_proration':
        return this.refundProration(action, cause);
    }
  }

  /**
   * Refunds a prorated cancellation's credit against the payment that paid the canceled
   * period's invoice, keyed by the cancellation (one refund however often this runs). At most
   * what that payment can still refund: a credit beyond it (a period paid partly by a price
   * change's invoice) stays owed as customer credit in the ledger.
   */
  private async refundProration(action: Extract<BillingAction, { kind: 'refund_proration' }>, cause: SystemCause): Promise<StepOutcome> {
    const invoiceId = await this.periodInvoiceId(action.subscriptionId, action.periodStart);
    if (invoiceId === undefined) throw new Error(`prorated refund of ${action.subscriptionId}: no invoice for the period from ${action.periodStart}`);
    const loaded = await loadAggregate(this.store, INVOICE, invoiceStream(invoiceId));
    const invoice = loaded.state;
    const paid = invoice.exists ? invoice.attempts.find((a) => a.outcome === 'succeeded') : undefined;
    // Credit exists only for a paid period (the decider's rule); an invoice paid with nothing due has no payment to refund.
    if (!invoice.exists || invoice.status !== 'paid' || paid === undefined) return { kind: 'done', position: loaded.lastPosition };
    const ctx: CommandContext = {
      actor: BILLING_ACTOR,
      correlationId: cause.correlationId,
      causationId: cause.causationId,
      customerScope: null,
      idempotency: { key: `proration-refund:${action.cancelEventId}`, firstSeenAt: new Date(action.at) },
    };
    const request = (amount: number) =>
      this.refunds.create({ paymentId: paid.paymentId, amount, reason: 'requested_by_customer', metadata: { subscriptionId: action.subscriptionId, invoiceId, kind: 'proration_refund' } }, ctx);
    let result = await request(action.credit);
    if (!result.ok && result.error.code === 'amount_exceeds_refundable' && result.error.refundable > 0) result = await request(result.error.refundable);
    if (result.ok) return { kind: 'done', position: result.value.position };
    switch (result.error.code) {
      case 'provider_unavailable':
        return { kind: 'retry_later', reason: result.error.message };
      // Already refunded in full by someone else: nothing left to give back here.
      case 'amount_exceeds_refundable':
      case 'payment_not_refundable':
        return { kind: 'done', position: loaded.lastPosition };
      default:
        throw new Error(`prorated refund of ${action.subscriptionId}: ${result.error.code}`);
    }
  }

  /** The invoice that billed the period starting at `periodStart`: the one its starting event's reaction issued. */
  private async periodInvoiceId(subscriptionId: SubscriptionId, periodStart: string): Promise<InvoiceId | undefined> {
    const { events } = await this.store.readStream(subscriptionStream(subscriptionId));
    let state: SubscriptionState = { exists: false };
    let found: InvoiceId | undefined;
    for (const recorded of events) {
      const event = upcastSubscriptionEvent(recorded.type, recorded.data, recorded.metadata.schemaVersion);
      const before = state.exists ? { price: state.price, testClock: state.testClock, currentPeriod: state.currentPeriod } : undefined;
      for (const action of reactToSubscriptionEvent(event, before, recorded.id)) {
        if (action.kind === 'issue_invoice' && action.invoice.periodStart === periodStart && action.invoice.lines.some((l) => l.kind === 'subscription')) {
          found = this.invoiceIdFor(subscriptionId, action.invoice.idSeed, action.invoice.at);
        }
      }
      state = evolveSubscription(state, event);
    }
    return found;
  }

  private attemptPaymentId(invoiceId: InvoiceId, attempt: number, at: string, cause: SystemCause): PaymentId {
    const id = derivedPaymentId(this.ids, this.chargeContext(invoiceId, attempt, at, cause));
    if (id === undefined) throw new Error('a charge context always has an idempotency key');
    return id;
  }

  /** Charges one attempt through the payments path and records its outcome on the invoice. */
  private async charge(invoiceId: InvoiceId, attempt: number, cause: SystemCause): Promise<StepOutcome> {
    const loaded = await loadAggregate(this.store, INVOICE, invoiceStream(invoiceId));
    const invoice = loaded.state;
    if (!invoice.exists) throw new Error(`charge of ${invoiceId}: the invoice does not exist`);
    const recorded = invoice.attempts.find((a) => a.attempt === attempt);
    if (!recorded) throw new Error(`charge of ${invoiceId}: attempt ${attempt} was never recorded`);
    if (recorded.outcome !== 'pending') return { kind: 'done', position: loaded.lastPosition };
    const subscription = (await loadAggregate(this.store, SUBSCRIPTION, subscriptionStream(invoice.subscriptionId))).state;
    if (!subscription.exists) throw new Error(`charge of ${invoiceId}: subscription ${invoice.subscriptionId} does not exist`);
    const ctx = this.chargeContext(invoiceId, attempt, recorded.at, cause);
    const result = await this.payments.create(
      {
        customerId: invoice.customerId,
        amount: moneyOf(invoice.total, invoice.currency),
        // The subscription's payment method now, as Stripe charges the current default.
        paymentMethod: subscription.paymentMethod,
        // A saved card, charged without its customer present (Stripe's off-session): one that
        // needs authentication declines, and the failed attempt goes to dunning like any decline.
        providerCustomerId: subscription.providerCustomerId ?? null,
        offSession: true,
        captureMethod: 'automatic',
        description: `Invoice ${invoiceId}`,
        metadata: { invoiceId, subscriptionId: invoice.subscriptionId, attempt: String(attempt) },
      },
      ctx,
    );
    if (!result.ok) {
      if (result.error.code === 'provider_unavailable') return { kind: 'retry_later', reason: result.error.message };
      throw new Error(`charge of ${invoiceId} attempt ${attempt}: ${result.error.code}`);
    }
    const payment = result.value.payment;
    if (payment.id !== recorded.paymentId) throw new Error(`charge of ${invoiceId}: paid with ${payment.id}, recorded ${recorded.paymentId}`);
    const now = cause.at;
    const outcome: InvoiceCommand =
      payment.status === 'failed'
        ? {
            type: 'RecordInvoicePaymentFailure',
            invoiceId,
            paymentId: payment.id,
            failureCode: payment.failure?.declineCode ?? payment.failure?.code ?? 'payment_failed',
            now,
            retryScheduleDays: this.config.retryScheduleDays,
          }
        : { type: 'RecordInvoicePaymentSucceeded', invoiceId, paymentId: payment.id, now };
    // A success on an invoice voided meanwhile is refused: that is a bug to see, not to swallow.
    return this.settled(await this.invoice(invoiceId, cause, () => outcome), []);
  }

  private invoice(invoiceId: InvoiceId, cause: SystemCause, command: (state: InvoiceState) => InvoiceCommand): Promise<DecideResult<InvoiceState, unknown, InvoiceError>> {
    const writer: Writer = { actor: cause.actor, correlationId: cause.correlationId, causationId: cause.causationId, occurredAt: cause.at.toISOString(), eventIdSeed: cause.seed };
    return decideAndAppend(this.store, INVOICE, invoiceStream(invoiceId), command, writer, {
      maxAttempts: MAX_ATTEMPTS,
      eventId: (seed, index) => (seed === undefined ? this.ids.uuid() : this.ids.uuidFrom(`${seed}\u0000${index}`)),
    });
  }

  /**
   * Done, or refused for a reason that means the work was already done (or overtaken). A
   * refusal's position is the invoice stream's newest: whoever did the work wrote there, and
   * a settle must read past it (it may not be readable yet) to handle what follows.
   */
  private async settled(result: StepResult, doneCodes: readonly string[], invoiceId?: InvoiceId): Promise<StepOutcome> {
    if (result.ok) return { kind: 'done', position: result.value.position };
    const code = result.error?.code ?? 'unknown';
    if (!doneCodes.includes(code)) throw new Error(`billing step refused: ${code}`);
    if (invoiceId === undefined) return DONE;
    const { events } = await this.store.readStream(invoiceStream(invoiceId));
    return { kind: 'done', position: events.at(-1)?.position };
  }

  private subscriptionStep(result: StepResult): Promise<StepOutcome> {
    // An ended subscription hears of invoices too: its decider decides nothing, which is success.
    return this.settled(result, []);
  }
}
