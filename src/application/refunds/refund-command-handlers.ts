import type { PaymentId, RefundId } from '../../domain/ids.js';
import { isPaymentId, paymentStream, refundStream, toRefundId } from '../../domain/ids.js';
import type { PaymentError, PaymentEvent } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION, decide } from '../../domain/payment/index.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { CommandContext } from '../command-context.js';
import { commandMetadata, idempotencySeed } from '../command-context.js';
import { loadPayment } from '../payments/payment-stream.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import type { Position } from '../ports/position.js';
import { comparePositions } from '../ports/position.js';
import type { CreateRefundInput, RefundCommandError, RefundCommandResult, RefundCommands } from '../ports/refund-commands.js';
import { loadRefund, viewOfLoaded } from './refund-stream.js';
import type { Appended, StepActor } from './refund-steps.js';
import { RefundSteps } from './refund-steps.js';

/**
 * Attempts to reserve on a payment that other refunds are reserving on at the same moment.
 * More than payments use (5): a payment's refunds contend with each other by design (every
 * reservation is an append at the payment's revision), and each lost race is a fresh load.
 */
export const REFUND_RESERVE_MAX_ATTEMPTS = 12;

export interface RefundCommandOptions {
  readonly reserveMaxAttempts: number;
}

/**
 * Creates refunds: reserve the amount on the payment (the check against refundable and the
 * claim are one append at the payment's expected revision), open the refund stream, ask
 * the processor, record a final answer, settle or release. Everything after the
 * reservation is also what the process manager does after a crash (RefundSteps), so a
 * failure part-way leaves work it finishes, never a stuck reservation.
 */
export class RefundCommandHandlers implements RefundCommands {
  private readonly steps: RefundSteps;

  constructor(
    private readonly store: EventStore,
    provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly options: RefundCommandOptions = { reserveMaxAttempts: REFUND_RESERVE_MAX_ATTEMPTS },
  ) {
    this.steps = new RefundSteps(store, provider, clock, ids);
  }

  async create(input: CreateRefundInput, ctx: CommandContext): Promise<RefundCommandResult> {
    if (!isPaymentId(input.paymentId)) return err({ code: 'payment_not_found', paymentId: input.paymentId });
    const seed = idempotencySeed(ctx);
    const refundId = toRefundId(seed && ctx.idempotency ? this.ids.deterministic('re_', seed, ctx.idempotency.firstSeenAt) : this.ids.next('re_'));
    const who: StepActor = { actor: ctx.actor, correlationId: ctx.correlationId, idempotencyKey: ctx.idempotency?.key };
    const appended: Appended = [];

    const reserved = await this.reserve(input.paymentId, refundId, input, ctx, seed, appended);
    if (!reserved.ok) return reserved;

    await this.steps.request(reserved.value.event, who, appended);
    // The processor unreachable or still working: the refund stays pending, and the process manager asks again.
    const asked = await this.steps.askProvider(refundId, who, { retrieve: false }, appended);
    if (asked === 'final') await this.steps.close(refundId, who, appended);

    const loaded = await loadRefund(this.store, refundStream(refundId));
    const refund = viewOfLoaded(loaded);
    if (!refund || loaded.revision === undefined || !loaded.lastPosition) throw new Error(`refund ${refundId} was requested but cannot be read back`);
    return ok({ refund, revision: loaded.revision, position: latest([loaded.lastPosition, ...appended.map((a) => a.position)]), replayed: reserved.value.replayed });
  }

  /**
   * The reservation this command made, or finds made by an earlier call with the same key
   * (then `replayed`: the rest of the steps only finish what that call left undone).
   */
  private async reserve(
    paymentId: PaymentId,
    refundId: RefundId,
    input: CreateRefundInput,
    ctx: CommandContext,
    seed: string | undefined,
    appended: Appended,
  ): Promise<Result<{ event: RecordedEvent; replayed: boolean }, RefundCommandError>> {
    const stream = paymentStream(paymentId);
    const attempts = this.options.reserveMaxAttempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const loaded = await loadPayment(this.store, stream);
      // Another customer's payment is as absent as a missing one: its existence does not leak.
      if (!loaded.state.exists || (ctx.customerScope && loaded.state.customerId !== ctx.customerScope)) return err({ code: 'payment_not_found', paymentId });
      const earlier = findReservation(loaded.recorded, refundId);
      if (earlier) return ok({ event: earlier, replayed: true });
      const decision = decide(loaded.state, { type: 'ReserveRefund', paymentId, refundId, amount: input.amount, reason: input.reason, metadata: input.metadata });
      if (!decision.ok) return err(asRefundError(decision.error));
      try {
        appended.push(await this.store.append(stream, this.reservationEvents(decision.value, ctx, seed), loaded.revision ?? 'no_stream'));
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
        continue;
      }
      const written = findReservation((await loadPayment(this.store, stream)).recorded, refundId);
      if (!written) throw new Error(`reservation of ${refundId} was appended but is not in ${stream}`);
      return ok({ event: written, replayed: false });
    }
    return err({ code: 'concurrency_conflict', attempts });
  }

  private reservationEvents(events: readonly PaymentEvent[], ctx: CommandContext, seed: string | undefined) {
    const occurredAt = this.clock.now().toISOString();
    return events.map((e, i) => ({
      id: seed ? this.ids.uuidFrom(`${seed}\u0000refund\u0000${i}`) : this.ids.uuid(),
      type: e.type,
      data: e.data,
      metadata: commandMetadata(ctx, occurredAt, CURRENT_SCHEMA_VERSION),
    }));
  }
}

const findReservation = (recorded: readonly RecordedEvent[], refundId: RefundId): RecordedEvent | undefined =>
  recorded.find((e) => e.type === 'PaymentRefundReserved' && (e.data as { refundId?: unknown }).refundId === refundId);

const latest = (positions: readonly Position[]): Position =>
  positions.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));

/** The payment decider's refusals of a reservation, as the refund command's. */
function asRefundError(error: PaymentError): RefundCommandError {
  switch (error.code) {
    case 'payment_not_found':
    case 'payment_not_refundable':
    case 'amount_exceeds_refundable':
    case 'invalid_amount':
      return error;
    default:
      // capture/cancel/settle refusals cannot come from a reservation.
      throw new Error(`unexpected refusal of a refund reservation: ${error.code}`);
  }
}
