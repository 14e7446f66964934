import type { CancellationReason, PaymentCommand, PaymentEvent, PaymentRequest } from '../../domain/payment/index.js';
import { decide, fold, paymentDetails } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../domain/payment/upcast.js';
import { isPaymentId, paymentStream, toPaymentId } from '../../domain/ids.js';
import type { PaymentId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { commandMetadata, idempotencySeed } from '../command-context.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, ExpectedRevision, NewEvent } from '../ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import { ProviderUnavailable } from '../ports/payment-provider.js';
import type { PaymentCommandError } from './payment-command-errors.js';
import type { LoadedPayment, WrittenPayment } from './payment-stream.js';
import { asWrittenBy, assertExists, loadPayment } from './payment-stream.js';
import { toPaymentView } from './payment-view.js';


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
 * Runs payment commands: load the stream, decide, talk to the provider, append with the
 * revision we decided on. A conflict with a concurrent writer is retried (bounded) unless
 * the caller pinned the revision.
 */
export class PaymentCommandHandlers {
  constructor(
    private readonly store: EventStore,
    private readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly options: PaymentCommandOptions = { maxAttempts: 5 },
  ) {}

  async create(input: CreatePaymentInput, ctx: CommandContext): Promise<PaymentCommandResult> {
    if (ctx.customerScope && ctx.customerScope !== input.customerId) return err({ code: 'customer_forbidden', customerId: input.customerId });
    const seed = idempotencySeed(ctx);
    const paymentId = derivedPaymentId(this.ids, ctx) ?? toPaymentId(this.ids.next('pay_'));
    const stream = paymentStream(paymentId);

    // A key's first attempt cannot find a write of its own: no read needed.
    if (seed && ctx.idempotency?.firstAttempt !== true) {
      const replay = await this.replayIfWritten(stream, seed, 'create');
      if (replay) return replay;
    }

    let authorization;
    try {
      authorization = await this.provider.authorize({
        ...paymentDetails(paymentId, input),
        idempotencyKey: seed ? `create:${paymentId}` : `create:${paymentId}:${this.ids.uuid()}`,
      });
    } catch (error) {
      if (error instanceof ProviderUnavailable) return err({ code: 'provider_unavailable', message: error.message });
      throw error;
    }
    if (authorization.status === 'invalid_request') {
      return err({ code: 'provider_invalid_request', param: authorization.param, message: authorization.message });
    }
    const command: PaymentCommand = { ...input, type: 'CreatePayment', paymentId, authorization };
    const decision = decide({ exists: false }, command);
    if (!decision.ok) return decision;
    try {
      return ok(await this.write(stream, { state: { exists: false }, revision: undefined }, decision.value, 'no_stream', ctx, seed, 'create'));
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      // Someone wrote this stream first: either our own earlier attempt (same key) or an id collision.
      if (seed) {
        const replay = await this.replayIfWritten(stream, seed, 'create');
        if (replay) return replay;
      }
      return err({ code: 'payment_already_exists', paymentId });
    }
  }

  async capture(paymentId: string, amount: number | undefined, ctx: CommandContext): Promise<PaymentCommandResult> {
    // Not an id this service issues: no payment can have it.
    if (!isPaymentId(paymentId)) return err({ code: 'payment_not_found', paymentId });
    return this.change(paymentId, { type: 'CapturePayment', paymentId, amount }, 'capture', ctx, async (state, events) => {
      const captured = events.find((e) => e.type === 'PaymentCaptured');
      if (!captured || !state.providerPaymentId) return undefined;
      return this.provider.capture({
        providerPaymentId: state.providerPaymentId,
        amount: captured.data.amount,
        currency: captured.data.currency,
        // Bound to the amount: a retry with another amount after a lost append must reach the
        // processor as a different request (which it refuses), not replay the first one.
        idempotencyKey: `capture:${paymentId}:${captured.data.amount}`,
      });
    });
  }

  async cancel(paymentId: string, reason: CancellationReason | null, ctx: CommandContext): Promise<PaymentCommandResult> {
    if (!isPaymentId(paymentId)) return err({ code: 'payment_not_found', paymentId });
    return this.change(paymentId, { type: 'CancelPayment', paymentId, reason }, 'cancel', ctx, async (state) => {
      if (!state.providerPaymentId) return undefined;
      return this.provider.cancel({ providerPaymentId: state.providerPaymentId, reason, idempotencyKey: `cancel:${paymentId}` });
    });
  }

  /** Load, decide, tell the provider, append; retried on a conflict unless If-Match pinned the revision. */
  private async change(
    paymentId: PaymentId,
    command: PaymentCommand,
    name: string,
    ctx: CommandContext,
    tellProvider: (
      state: ReturnType<typeof assertExists>,
      events: readonly PaymentEvent[],
    ) => Promise<{ status: 'ok' } | { status: 'failed'; code: string; message: string } | undefined>,
  ): Promise<PaymentCommandResult> {
    const stream = paymentStream(paymentId);
    const seed = idempotencySeed(ctx);
    const attempts = ctx.expectedRevision === undefined ? this.options.maxAttempts : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const loaded = await loadPayment(this.store, stream);
      if (ctx.customerScope && loaded.state.exists && loaded.state.customerId !== ctx.customerScope) {
        return err({ code: 'payment_not_found', paymentId });
      }
      const replay = seed === undefined ? undefined : this.writtenBefore(loaded, seed, name);
      if (replay) return replay;
      if (ctx.expectedRevision !== undefined && loaded.revision !== undefined && loaded.revision !== ctx.expectedRevision) {
        return err({ code: 'revision_mismatch', expected: ctx.expectedRevision.toString(), actual: loaded.revision.toString() });
      }
      const decision = decide(loaded.state, command);
      if (!decision.ok) return decision;
      let told;
      try {
        told = await tellProvider(assertExists(loaded.state), decision.value);
      } catch (error) {
        if (error instanceof ProviderUnavailable) return err({ code: 'provider_unavailable', message: error.message });
        throw error;
      }
      if (told?.status === 'failed') return err({ code: 'provider_failed', providerCode: told.code, message: told.message });
      try {
        return ok(await this.write(stream, loaded, decision.value, loaded.revision ?? 'no_stream', ctx, seed, name));
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        if (ctx.expectedRevision !== undefined) {
          return err({ code: 'revision_mismatch', expected: ctx.expectedRevision.toString(), actual: error.actual?.toString() ?? null });
        }
      }
    }
    return err({ code: 'concurrency_conflict', attempts });
  }

  private async write(
    stream: string,
    before: Pick<LoadedPayment, 'state' | 'revision'> & Partial<LoadedPayment>,
    events: readonly PaymentEvent[],
    expected: ExpectedRevision,
    ctx: CommandContext,
    seed: string | undefined,
    name: string,
  ): Promise<PaymentCommandSuccess> {
    const occurredAt = this.clock.now().toISOString();
    const newEvents: NewEvent[] = events.map((e, i) => ({
      id: seed ? this.eventId(seed, name, i) : this.ids.uuid(),
      type: e.type,
      data: e.data,
      metadata: commandMetadata(ctx, occurredAt, CURRENT_SCHEMA_VERSION),
    }));
    const state = assertExists(fold(events, before.state));
    // What we answer if the append goes as decided; the key's record rides with the events.
    const decided = typeof expected === 'bigint' ? expected + BigInt(events.length) : expected === 'no_stream' ? BigInt(events.length - 1) : undefined;
    const prospective = decided === undefined ? undefined : { payment: toPaymentView(state, decided, before.createdAt ?? occurredAt, occurredAt), revision: streamRevision(decided) };
    const record = prospective && ctx.idempotency?.recordPaymentAnswer?.(prospective);
    const appended = await this.store.append(stream, newEvents, expected, record ? { recordOutcome: record } : undefined);
    if (appended.replayed && seed !== undefined) {
      // An earlier attempt with this key wrote these very events while we were deciding (it
      // raced us, or its statement outlived its client's timeout): answer what it wrote, not
      // what our own clock and state would say.
      const replay = await this.replayIfWritten(stream, seed, name);
      if (replay?.ok) return replay.value;
      throw new Error(`stream ${stream}: the store recognised a re-append that the stream does not show`);
    }
    if (prospective && appended.nextExpectedRevision !== prospective.revision) {
      throw new Error(`stream ${stream}: appended at revision ${appended.nextExpectedRevision}, decided at ${prospective.revision}`);
    }
    const revision = appended.nextExpectedRevision;
    return {
      payment: prospective?.payment ?? toPaymentView(state, revision, before.createdAt ?? occurredAt, occurredAt),
      revision,
      position: appended.position,
      replayed: false,
      ...(appended.outcomeRecorded === true ? { outcomeRecorded: true } : {}),
    };
  }

  private async replayIfWritten(stream: string, seed: string, name: string): Promise<PaymentCommandResult | undefined> {
    return this.writtenBefore(await loadPayment(this.store, stream), seed, name);
  }

  /**
   * An earlier call with this key wrote already (then crashed, or its answer was not kept):
   * answer what it answered, from the stream as its write left it, not as it is now.
   */
  private writtenBefore(loaded: LoadedPayment, seed: string, name: string): PaymentCommandResult | undefined {
    const written = asWrittenBy(loaded, (index) => this.eventId(seed, name, index));
    return written ? ok({ ...written, replayed: true }) : undefined;
  }

  private eventId(seed: string, command: string, index: number): string {
    return this.ids.uuidFrom(`${seed}\u0000${command}\u0000${index}`);
  }
}
