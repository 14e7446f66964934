import type { InvoiceCommand, InvoiceError, InvoiceState } from '../../domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS } from '../../domain/invoice/index.js';
import type { InvoiceId, PaymentId } from '../../domain/ids.js';
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

export class BillingSteps {
  constructor(
    private readonly store: EventStore,
    private readonly subscriptions: SubscriptionCommandHandlers,
    private readonly payments: PaymentCommands,
    private readonly ids: IdGenerator,
    private readonly config: BillingStepsConfig = DEFAULT_BILLING_CONFIG,
  ) {}

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
        return this.settled(issued, ['invoice_already_exists']);
      }
      case 'attempt_payment': {
        const paymentId = this.attemptPaymentId(action.invoiceId, action.attempt, action.at, cause);
        const attempted = await this.invoice(action.invoiceId, cause, () => ({ type: 'AttemptInvoicePayment', invoiceId: action.invoiceId, attempt: action.attempt, paymentId, now: new Date(action.at) }));
        // Paid meanwhile (another path), or this attempt's place already taken: nothing to do.
        return this.settled(attempted, ['invoice_final', 'invoice_attempt_out_of_order']);
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
        return this.settled(await this.invoice(invoiceId, cause, () => ({ type: 'VoidInvoice', invoiceId, now: new Date(action.at) })), ['invoice_not_found', 'invoice_final']);
      }
      case 'mark_uncollectible':
        return this.settled(await this.invoice(action.invoiceId, cause, () => ({ type: 'MarkInvoiceUncollectible', invoiceId: action.invoiceId, now: new Date(action.at) })), ['invoice_final']);
    }
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

  /** Done, or refused for a reason that means the work was already done (or overtaken). */
  private settled(result: StepResult, doneCodes: readonly string[]): StepOutcome {
    if (result.ok) return { kind: 'done', position: result.value.position };
    const code = result.error?.code ?? 'unknown';
    if (doneCodes.includes(code)) return DONE;
    throw new Error(`billing step refused: ${code}`);
  }

  private subscriptionStep(result: StepResult): StepOutcome {
    // An ended subscription hears of invoices too: its decider decides nothing, which is success.
    return this.settled(result, []);
  }
}
