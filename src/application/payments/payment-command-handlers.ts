import type { Money } from '../../domain/money.js';
import type { CancellationReason, CaptureMethod, PaymentCommand, PaymentEvent } from '../../domain/payment/index.js';
import { decide, fold } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../domain/payment/upcast.js';
import { paymentStream } from '../../domain/ids.js';
import type { PaymentId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, ExpectedRevision, NewEvent, StreamRevision } from '../ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import { ProviderUnavailable } from '../ports/payment-provider.js';
import type { Position } from '../ports/position.js';
import { START } from '../ports/position.js';
import type { PaymentCommandError } from './payment-command-errors.js';
import type { LoadedPayment } from './payment-stream.js';
import { assertExists, loadPayment } from './payment-stream.js';
import type { PaymentView } from './payment-view.js';
import { toPaymentView } from './payment-view.js';

/**
 * What ids are derived from when a command carries an idempotency key. The key's first
 * sighting is part of it: once a key has expired (24 h) it may be used again for a new
 * request, which must not collide with the ids of the old one.
 */
function idempotencySeed(ctx: CommandContext): string | undefined {
  if (!ctx.idempotency) return undefined;
  return `${ctx.actor}\u0000${ctx.idempotency.key}\u0000${ctx.idempotency.firstSeenAt.getTime()}`;
}

export interface CreatePaymentInput {
  readonly customerId: string;
  readonly amount: Money;
  readonly paymentMethod: string;
  readonly captureMethod: CaptureMethod;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PaymentCommandSuccess {
  readonly payment: PaymentView;
  readonly revision: StreamRevision;
  /** Where the command's events sit in the global log (for a replay: the stream's last event). */
  readonly position: Position;
  /** True when this call did not write, because an earlier call with the same idempotency key did. */
  readonly replayed: boolean;
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
    const paymentId = (seed && ctx.idempotency
      ? this.ids.deterministic('pay_', seed, ctx.idempotency.firstSeenAt)
      : this.ids.next('pay_')) as PaymentId;
    const stream = paymentStream(paymentId);

    if (seed) {
      const replay = await this.replayIfWritten(stream, this.eventId(seed, 'create', 0));
      if (replay) return replay;
    }

    let authorization;
    try {
      authorization = await this.provider.authorize({
        amount: input.amount.amount,
        currency: input.amount.currency,
        paymentMethod: input.paymentMethod,
        captureMethod: input.captureMethod,
        customerId: input.customerId,
        description: input.description,
        metadata: input.metadata,
        idempotencyKey: seed ? `create:${paymentId}` : `create:${paymentId}:${this.ids.uuid()}`,
      });
    } catch (error) {
      if (error instanceof ProviderUnavailable) return err({ code: 'provider_unavailable', message: error.message });
      throw error;
    }
    if (authorization.status === 'invalid_request') {
      return err({ code: 'provider_invalid_request', param: authorization.param, message: authorization.message });
    }
    const command: PaymentCommand = {
      type: 'CreatePayment',
      paymentId,
      customerId: input.customerId,
      amount: input.amount,
      paymentMethod: input.paymentMethod,
      captureMethod: input.captureMethod,
      description: input.description,
      metadata: input.metadata,
      authorization:
        authorization.status === 'approved'
          ? { outcome: 'approved', providerPaymentId: authorization.providerPaymentId }
          : {
              outcome: 'declined',
              providerPaymentId: authorization.providerPaymentId,
              failureCode: authorization.failureCode,
              declineCode: authorization.declineCode,
              message: authorization.message,
            },
    };
    const decision = decide({ exists: false }, command);
    if (!decision.ok) return decision;
    try {
      return ok(await this.write(stream, { state: { exists: false }, revision: undefined }, decision.value, 'no_stream', ctx, seed, 'create'));
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
      // Someone wrote this stream first: either our own earlier attempt (same key) or an id collision.
      if (seed) {
        const replay = await this.replayIfWritten(stream, this.eventId(seed, 'create', 0));
        if (replay) return replay;
      }
      return err({ code: 'payment_already_exists', paymentId });
    }
  }

  capture(paymentId: string, amount: number | undefined, ctx: CommandContext): Promise<PaymentCommandResult> {
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

  cancel(paymentId: string, reason: CancellationReason | null, ctx: CommandContext): Promise<PaymentCommandResult> {
    return this.change(paymentId, { type: 'CancelPayment', paymentId, reason }, 'cancel', ctx, async (state) => {
      if (!state.providerPaymentId) return undefined;
      return this.provider.cancel({ providerPaymentId: state.providerPaymentId, reason, idempotencyKey: `cancel:${paymentId}` });
    });
  }

  /** Load, decide, tell the provider, append; retried on a conflict unless If-Match pinned the revision. */
  private async change(
    paymentId: string,
    command: PaymentCommand,
    name: string,
    ctx: CommandContext,
    tellProvider: (
      state: ReturnType<typeof assertExists>,
      events: readonly PaymentEvent[],
    ) => Promise<{ status: 'ok' } | { status: 'failed'; code: string; message: string } | undefined>,
  ): Promise<PaymentCommandResult> {
    const stream = paymentStream(paymentId as PaymentId);
    const seed = idempotencySeed(ctx);
    const attempts = ctx.expectedRevision === undefined ? this.options.maxAttempts : 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const loaded = await loadPayment(this.store, stream);
      if (ctx.customerScope && loaded.state.exists && loaded.state.customerId !== ctx.customerScope) {
        return err({ code: 'payment_not_found', paymentId });
      }
      if (seed && loaded.eventIds.has(this.eventId(seed, name, 0))) return ok(this.replayOf(loaded));
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
      metadata: {
        correlationId: ctx.correlationId,
        causationId: ctx.causationId ?? null,
        actor: ctx.actor,
        occurredAt,
        schemaVersion: CURRENT_SCHEMA_VERSION,
        ...(ctx.idempotency ? { idempotencyKey: ctx.idempotency.key } : {}),
      },
    }));
    const appended = await this.store.append(stream, newEvents, expected);
    const state = assertExists(fold(events, before.state));
    return {
      payment: toPaymentView(state, appended.nextExpectedRevision, before.createdAt ?? occurredAt, occurredAt),
      revision: appended.nextExpectedRevision,
      position: appended.position,
      replayed: false,
    };
  }

  private async replayIfWritten(stream: string, firstEventId: string): Promise<PaymentCommandResult | undefined> {
    const loaded = await loadPayment(this.store, stream);
    return loaded.eventIds.has(firstEventId) ? ok(this.replayOf(loaded)) : undefined;
  }

  private replayOf(loaded: LoadedPayment): PaymentCommandSuccess {
    const state = assertExists(loaded.state);
    const revision = loaded.revision ?? streamRevision(0);
    return {
      payment: toPaymentView(state, revision, loaded.createdAt ?? '', loaded.updatedAt ?? ''),
      revision,
      position: loaded.lastPosition ?? START,
      replayed: true,
    };
  }

  private eventId(seed: string, command: string, index: number): string {
    return this.ids.uuidFrom(`${seed}\u0000${command}\u0000${index}`);
  }
}
