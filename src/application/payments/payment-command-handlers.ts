import type { CancellationReason, PaymentCommand, PaymentEvent, PaymentRequest } from '../../domain/payment/index.js';
import { decide, fold, initialState } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../domain/payment/upcast.js';
import { isPaymentId, paymentStream, toPaymentId } from '../../domain/ids.js';
import type { PaymentId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { commandMetadata, idempotencySeed } from '../command-context.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, ExpectedRevision, NewEvent } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import type { PaymentCommandError } from './payment-command-errors.js';
import type { PendingRequest, PaymentRequestEvent } from './payment-intents.js';
import { PaymentIntents, isPaymentRequestEventType, pendingRequestOf } from './payment-intents.js';
import type { LoadedPayment, WrittenPayment } from './payment-stream.js';
import { asWrittenBy, loadPayment, toDomainEvent } from './payment-stream.js';


export type CreatePaymentInput = PaymentRequest;

/** The id `create` gives a payment made under `ctx`: derived from its idempotency key when it has one. */
export function derivedPaymentId(ids: IdGenerator, ctx: CommandContext): PaymentId | undefined {
  const seed = idempotencySeed(ctx);
  return seed && ctx.idempotency ? toPaymentId(ids.deterministic('pay_', seed, ctx.idempotency.firstSeenAt)) : undefined;
}

/**
 * The payment as the command's own write left it, the revision and the position of that
 * write's last event. A replay answers the same three as the first call did, even when
 * other commands have moved the payment on since.
 */
export interface PaymentCommandSuccess extends WrittenPayment {
  /** True when this call did not write, because an earlier call with the same idempotency key did. */
  readonly replayed: boolean;
  /** True when the idempotency record of this answer was written with the events (CommandContext `recordPaymentAnswer`). */
  readonly outcomeRecorded?: boolean;
}

export type PaymentCommandResult = Result<PaymentCommandSuccess, PaymentCommandError>;

export interface PaymentCommandOptions {
  /** Attempts on a concurrency conflict when the caller did not pin a revision with If-Match. */
  readonly maxAttempts: number;
}

/**
 * Runs payment commands, intent first (payment-intents.ts): load the stream, decide, append
 * the request (PaymentRequested, PaymentCaptureRequested, PaymentCancelRequested) with the
 * revision we decided on, ask the processor with the key the request names, append the
 * outcome. A conflict with a concurrent writer is retried (bounded) unless the caller pinned
 * the revision. A retry under the same Idempotency-Key that finds its request pending
 * completes it (same processor key, so the same answer); one that finds the outcome answers
 * what the first call answered.
 */
export class PaymentCommandHandlers {
  private readonly intents: PaymentIntents;

  constructor(
    private readonly store: EventStore,
    provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly options: PaymentCommandOptions = { maxAttempts: 5 },
  ) {
    this.intents = new PaymentIntents(store, provider, clock, ids);
  }

  async create(input: CreatePaymentInput, ctx: CommandContext): Promise<PaymentCommandResult> {
    if (ctx.customerScope && ctx.customerScope !== input.customerId) return err({ code: 'customer_forbidden', customerId: input.customerId });
    const seed = idempotencySeed(ctx);
    const paymentId = derivedPaymentId(this.ids, ctx) ?? toPaymentId(this.ids.next('pay_'));
    const stream = paymentStream(paymentId);

    // A key's first attempt cannot find a write of its own: no read needed.
    if (seed && ctx.idempotency?.firstAttempt !== true) {
      const loaded = await loadPayment(this.store, stream);
      const resumed = await this.resume(loaded, seed, 'create', ctx);
      if (resumed) return resumed;
      if (loaded.state.exists) return err({ code: 'payment_already_exists', paymentId });
    }

    // Keyless: a key of its own, recorded in the request, so the completer asks with it too.
    const providerKey = seed ? `create:${paymentId}` : `create:${paymentId}:${this.ids.uuid()}`;
    const decision = decide(initialState, { ...input, type: 'RequestPayment', paymentId, providerKey });
    if (!decision.ok) return decision;
    const empty: LoadedPayment = { state: initialState, revision: undefined, createdAt: undefined, updatedAt: undefined, lastPosition: undefined, recorded: [] };
    try {
      return await this.request(stream, empty, decision.value, 'no_stream', ctx, seed, 'create');
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      // Someone wrote this stream first: either our own earlier attempt (same key) or an id collision.
      if (seed) {
        const resumed = await this.resume(await loadPayment(this.store, stream), seed, 'create', ctx);
        if (resumed) return resumed;
      }
      return err({ code: 'payment_already_exists', paymentId });
    }
  }

  async capture(paymentId: string, amount: number | undefined, ctx: CommandContext): Promise<PaymentCommandResult> {
    // Not an id this service issues: no payment can have it.
    if (!isPaymentId(paymentId)) return err({ code: 'payment_not_found', paymentId });
    return this.change(paymentId, { type: 'RequestCapture', paymentId, amount }, 'capture', ctx);
  }

  async cancel(paymentId: string, reason: CancellationReason | null, ctx: CommandContext): Promise<PaymentCommandResult> {
    if (!isPaymentId(paymentId)) return err({ code: 'payment_not_found', paymentId });
    return this.change(paymentId, { type: 'RequestCancel', paymentId, reason }, 'cancel', ctx);
  }

  /** Load, decide, append the request, complete it; retried on a conflict unless If-Match pinned the revision. */
  private async change(paymentId: PaymentId, command: PaymentCommand, name: string, ctx: CommandContext): Promise<PaymentCommandResult> {
    const stream = paymentStream(paymentId);
    const seed = idempotencySeed(ctx);
    const attempts = ctx.expectedRevision === undefined ? this.options.maxAttempts : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const loaded = await loadPayment(this.store, stream);
      if (ctx.customerScope && loaded.state.exists && loaded.state.customerId !== ctx.customerScope) {
        return err({ code: 'payment_not_found', paymentId });
      }
      const resumed = seed === undefined ? undefined : await this.resume(loaded, seed, name, ctx);
      if (resumed) return resumed;
      if (ctx.expectedRevision !== undefined && loaded.revision !== undefined && loaded.revision !== ctx.expectedRevision) {
        return err({ code: 'revision_mismatch', expected: ctx.expectedRevision.toString(), actual: loaded.revision.toString() });
      }
      const decision = decide(loaded.state, command);
      if (!decision.ok) return decision;
      try {
        return await this.request(stream, loaded, decision.value, loaded.revision ?? 'no_stream', ctx, seed, name);
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (ctx.expectedRevision !== undefined) {
          return err({ code: 'revision_mismatch', expected: ctx.expectedRevision.toString(), actual: error.actual?.toString() ?? null });
        }
      }
    }
    return err({ code: 'concurrency_conflict', attempts });
  }

  /** Appends the request event, then completes it: asks the processor and appends the outcome. */
  private async request(
    stream: string,
    before: LoadedPayment,
    events: readonly PaymentEvent[],
    expected: ExpectedRevision,
    ctx: CommandContext,
    seed: string | undefined,
    name: string,
  ): Promise<PaymentCommandResult> {
    const [requested] = events;
    if (events.length !== 1 || !requested || !isPaymentRequestEventType(requested.type)) {
      throw new Error(`stream ${stream}: a ${name} decides one request event, not ${events.map((e) => e.type).join(', ')}`);
    }
    const occurredAt = this.clock.now().toISOString();
    const newEvent: NewEvent = {
      id: seed ? this.eventId(seed, name, 0) : this.ids.uuid(),
      type: requested.type,
      data: requested.data,
      metadata: commandMetadata(ctx, occurredAt, CURRENT_SCHEMA_VERSION),
    };
    const appended = await this.store.append(stream, [newEvent], expected);
    if (appended.replayed && seed !== undefined) {
      // An earlier attempt with this key wrote this very request while we were deciding: carry on from the log.
      const resumed = await this.resume(await loadPayment(this.store, stream), seed, name, ctx);
      if (resumed) return resumed;
      throw new Error(`stream ${stream}: the store recognised a re-append that the stream does not show`);
    }
    // The stream as the request left it, without reading it back: the fold, the revision and the event.
    const recorded = {
      ...newEvent,
      streamId: stream,
      revision: appended.nextExpectedRevision,
      position: appended.position,
      recordedAt: new Date(occurredAt),
    };
    const after: LoadedPayment = {
      state: fold(events, before.state),
      revision: appended.nextExpectedRevision,
      createdAt: before.createdAt ?? occurredAt,
      updatedAt: occurredAt,
      lastPosition: appended.position,
      recorded: [...before.recorded, recorded],
    };
    return this.complete(after, { recorded, event: requested as PaymentRequestEvent }, ctx);
  }

  private async complete(loaded: LoadedPayment, request: PendingRequest, ctx: CommandContext): Promise<PaymentCommandResult> {
    const completed = await this.intents.complete(loaded, request, { ctx });
    switch (completed.kind) {
      case 'answered':
        return completed.answer;
      case 'unavailable':
        // The request stays pending: a retry with the same key, or the completer, finishes it.
        return err({ code: 'provider_unavailable', message: completed.message });
      case 'not_pending':
        return err({ code: 'no_operation_pending', paymentId: request.event.data.paymentId, operation: operationOf(request.event) });
    }
  }

  /**
   * What an earlier call with this key wrote, carried on: its outcome's answer when the
   * outcome is there, the completion of its request when it is still pending, or (a write
   * from before intents) the answer that write gave. Undefined when the key wrote nothing.
   */
  private async resume(loaded: LoadedPayment, seed: string, name: string, ctx: CommandContext): Promise<PaymentCommandResult | undefined> {
    const first = loaded.recorded.find((e) => e.id === this.eventId(seed, name, 0));
    if (!first) return undefined;
    if (!isPaymentRequestEventType(first.type)) return this.writtenBefore(loaded, seed, name);
    const answered = this.intents.recordedAnswer(loaded, first.id);
    if (answered) return answered;
    const pending = pendingRequestOf(loaded);
    if (pending?.recorded.id !== first.id) {
      // Our request ended without an outcome of ours (another writer answered it, e.g. a sync from the processor).
      const request = toDomainEvent(first) as PaymentRequestEvent;
      return err({ code: 'no_operation_pending', paymentId: request.data.paymentId, operation: operationOf(request) });
    }
    return this.complete(loaded, pending, ctx);
  }

  /**
   * An earlier call with this key wrote already, before intents existed (its write is the
   * outcome itself): answer what it answered, from the stream as its write left it.
   */
  private writtenBefore(loaded: LoadedPayment, seed: string, name: string): PaymentCommandResult | undefined {
    const written = asWrittenBy(loaded, (index) => this.eventId(seed, name, index));
    return written ? ok({ ...written, replayed: true }) : undefined;
  }

  private eventId(seed: string, command: string, index: number): string {
    return this.ids.uuidFrom(`${seed}\u0000${command}\u0000${index}`);
  }
}

const operationOf = (event: PaymentRequestEvent): 'create' | 'capture' | 'cancel' =>
  event.type === 'PaymentRequested' ? 'create' : event.type === 'PaymentCaptureRequested' ? 'capture' : 'cancel';
