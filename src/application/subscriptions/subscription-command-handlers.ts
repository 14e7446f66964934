import type { SubscriptionCommand, SubscriptionError, SubscriptionPrice, SubscriptionState } from '../../domain/subscription/index.js';
import type { InvoiceId, SubscriptionId } from '../../domain/ids.js';
import { isSubscriptionId, subscriptionStream, toSubscriptionId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { idempotencySeed } from '../command-context.js';
import type { DecideResult, RevisionMismatch, Writer } from '../aggregates/aggregate-stream.js';
import { decideAndAppend, loadAggregate } from '../aggregates/aggregate-stream.js';
import type { BillingTime } from './billing-time.js';
import type { EventStore, StreamRevision } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { Position } from '../ports/position.js';
import { SUBSCRIPTION } from './subscription-aggregate.js';

/*
 * Subscription commands from the API (create, update, cancel, pause, resume, change price)
 * and from the billing machinery (the clock's renewals and expiries, invoice outcomes,
 * dunning). docs/architecture.md, "Subscriptions".
 *
 * Not yet: test clocks (every subscription here lives on the real clock), and the invoice
 * process manager that turns these events into invoices and payments.
 */

export interface CreateSubscriptionInput {
  readonly customerId: string;
  /** The test clock it lives on; null for the real clock. */
  readonly testClock: string | null;
  readonly price: SubscriptionPrice;
  readonly paymentMethod: string;
  /** The processor's customer the payment method is saved to (Stripe `cus_…`); renewals charge it off-session. */
  readonly providerCustomerId?: string | null;
  readonly trialDays: number | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SubscriptionWritten {
  readonly state: SubscriptionState & { readonly exists: true };
  readonly revision: StreamRevision;
  readonly position: Position;
  /** True when this call wrote nothing because the subscription already was as asked (or an earlier call with the key wrote it). */
  readonly unchanged: boolean;
}

export type SubscriptionCommandError =
  | SubscriptionError
  | { readonly code: 'customer_forbidden'; readonly customerId: string }
  | { readonly code: 'test_clock_not_found'; readonly testClockId: string }
  | { readonly code: 'concurrency_conflict'; readonly attempts: number }
  /** If-Match named another revision. */
  | RevisionMismatch;

export type SubscriptionCommandResult = Result<SubscriptionWritten, SubscriptionCommandError>;

/** What the machinery says caused a command: the event it reacts to (recorded as causation). */
export interface SystemCause {
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** Determines the command's events: their ids derive from it, so a re-run writes the same ids. */
  readonly seed: string;
  /** When, on the subscription's clock (real or test), the machinery acts: the time its events record. */
  readonly at: Date;
}

const MAX_ATTEMPTS = 5;

export class SubscriptionCommandHandlers {
  constructor(
    private readonly store: EventStore,
    private readonly time: BillingTime,
    private readonly ids: IdGenerator,
  ) {}

  async create(input: CreateSubscriptionInput, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    if (ctx.customerScope && ctx.customerScope !== input.customerId) return err({ code: 'customer_forbidden', customerId: input.customerId });
    const seed = idempotencySeed(ctx);
    const subscriptionId = toSubscriptionId(seed && ctx.idempotency ? this.ids.deterministic('sub_', seed, ctx.idempotency.firstSeenAt) : this.ids.next('sub_'));
    const now = await this.time.now(input.testClock);
    if (now === undefined) return err({ code: 'test_clock_not_found', testClockId: input.testClock ?? '' });
    const writer = this.userWriter(ctx, seed, 'create', now);
    const created = await this.run(subscriptionId, () => ({ type: 'CreateSubscription', subscriptionId, ...input, now }), writer);
    if (created.ok || created.error.code !== 'subscription_already_exists' || writer.eventIdSeed === undefined) return created;
    // An earlier call with this key created it (and its answer was lost): that is this call's answer too.
    const loaded = await loadAggregate(this.store, SUBSCRIPTION, subscriptionStream(subscriptionId));
    const ours = loaded.recorded[0]?.id === this.eventId(writer.eventIdSeed, 0);
    if (!ours || !loaded.state.exists || loaded.revision === undefined || loaded.lastPosition === undefined) return created;
    return ok({ state: loaded.state, revision: loaded.revision, position: loaded.lastPosition, unchanged: true });
  }

  private eventId(seed: string | undefined, index: number): string {
    return seed === undefined ? this.ids.uuid() : this.ids.uuidFrom(`${seed}\u0000${index}`);
  }

  update(id: string, changes: { paymentMethod?: string; providerCustomerId?: string | null; cancelAtPeriodEnd?: boolean; metadata?: Readonly<Record<string, string>> }, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    return this.userCommand(id, ctx, 'update', (subscriptionId) => ({ type: 'UpdateSubscription', subscriptionId, ...changes }));
  }

  cancel(id: string, prorate: boolean, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    return this.userCommand(id, ctx, 'cancel', (subscriptionId, now) => ({ type: 'CancelSubscription', subscriptionId, prorate, now }));
  }

  pause(id: string, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    return this.userCommand(id, ctx, 'pause', (subscriptionId, now) => ({ type: 'PauseSubscription', subscriptionId, now }));
  }

  resume(id: string, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    return this.userCommand(id, ctx, 'resume', (subscriptionId, now) => ({ type: 'ResumeSubscription', subscriptionId, now }));
  }

  changePrice(id: string, price: SubscriptionPrice, prorate: boolean, ctx: CommandContext): Promise<SubscriptionCommandResult> {
    return this.userCommand(id, ctx, 'change-price', (subscriptionId, now) => ({ type: 'ChangePrice', subscriptionId, price, prorate, now }));
  }

  /** The billing clock: move the subscription into its next period (or cancel it there). */
  startNextPeriod(id: SubscriptionId, now: Date, cause: SystemCause): Promise<SubscriptionCommandResult> {
    return this.system(id, cause, () => ({ type: 'StartNextPeriod', subscriptionId: id, now }));
  }

  expireIncomplete(id: SubscriptionId, now: Date, cause: SystemCause): Promise<SubscriptionCommandResult> {
    return this.system(id, cause, () => ({ type: 'ExpireIncomplete', subscriptionId: id, now }));
  }

  recordInvoicePaid(id: SubscriptionId, invoiceId: InvoiceId, cause: SystemCause): Promise<SubscriptionCommandResult> {
    return this.system(id, cause, () => ({ type: 'RecordInvoicePaid', subscriptionId: id, invoiceId }));
  }

  recordInvoicePaymentFailed(id: SubscriptionId, invoiceId: InvoiceId, cause: SystemCause): Promise<SubscriptionCommandResult> {
    return this.system(id, cause, () => ({ type: 'RecordInvoicePaymentFailed', subscriptionId: id, invoiceId }));
  }

  exhaustDunning(id: SubscriptionId, invoiceId: InvoiceId, then: 'cancel' | 'mark_unpaid', now: Date, cause: SystemCause): Promise<SubscriptionCommandResult> {
    return this.system(id, cause, () => ({ type: 'ExhaustDunning', subscriptionId: id, invoiceId, then, now }));
  }

  private async userCommand(
    id: string,
    ctx: CommandContext,
    name: string,
    command: (subscriptionId: SubscriptionId, now: Date) => SubscriptionCommand,
  ): Promise<SubscriptionCommandResult> {
    // Not an id this service issues: no subscription can have it.
    if (!isSubscriptionId(id)) return err({ code: 'subscription_not_found', subscriptionId: id });
    // Its time is its clock's: read which clock first.
    const loaded = await loadAggregate(this.store, SUBSCRIPTION, subscriptionStream(id));
    // A customer-scoped caller sees only its customer's subscriptions: another's does not exist for it
    // (a subscription's customer never changes, so this read answers for the write below too).
    if (!loaded.state.exists || (ctx.customerScope && loaded.state.customerId !== ctx.customerScope)) {
      return err({ code: 'subscription_not_found', subscriptionId: id });
    }
    const testClock = loaded.state.testClock;
    const now = await this.time.now(testClock);
    if (now === undefined) return err({ code: 'test_clock_not_found', testClockId: testClock ?? '' });
    return this.run(id, () => command(id, now), this.userWriter(ctx, idempotencySeed(ctx), name, now), ctx.expectedRevision);
  }

  private system(id: SubscriptionId, cause: SystemCause, command: (state: SubscriptionState) => SubscriptionCommand): Promise<SubscriptionCommandResult> {
    const writer: Writer = { actor: cause.actor, correlationId: cause.correlationId, causationId: cause.causationId, occurredAt: cause.at.toISOString(), eventIdSeed: cause.seed };
    return this.run(id, command, writer);
  }

  private userWriter(ctx: CommandContext, seed: string | undefined, name: string, now: Date): Writer {
    return {
      actor: ctx.actor,
      correlationId: ctx.correlationId,
      causationId: ctx.causationId ?? null,
      occurredAt: now.toISOString(),
      eventIdSeed: seed === undefined ? undefined : `${seed}\u0000${name}`,
      idempotencyKey: ctx.idempotency?.key,
    };
  }

  private async run(
    id: SubscriptionId,
    command: (state: SubscriptionState) => SubscriptionCommand,
    writer: Writer,
    expectedRevision?: StreamRevision,
  ): Promise<SubscriptionCommandResult> {
    const stream = subscriptionStream(id);
    const decided: DecideResult<SubscriptionState, unknown, SubscriptionError> = await decideAndAppend(this.store, SUBSCRIPTION, stream, command, writer, {
      maxAttempts: MAX_ATTEMPTS,
      eventId: (seed, index) => this.eventId(seed, index),
      expectedRevision,
    });
    if (!decided.ok) return decided;
    const { state, revision, position, events } = decided.value;
    if (!state.exists || revision === undefined || position === undefined) throw new Error(`subscription ${id}: decided on a stream that is not there`);
    return ok({ state, revision, position, unchanged: events.length === 0 });
  }
}
