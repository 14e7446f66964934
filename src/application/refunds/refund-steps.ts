import { paymentStream, refundStream } from '../../domain/ids.js';
import type { RefundId } from '../../domain/ids.js';
import type { PaymentEvent, PaymentRefundReserved } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION, decide } from '../../domain/payment/index.js';
import type { RefundEvent, RefundOutcome } from '../../domain/refund/index.js';
import { CURRENT_REFUND_SCHEMA_VERSION, decideRefund } from '../../domain/refund/index.js';
import { assertExists, loadPayment, toDomainEvent } from '../payments/payment-stream.js';
import type { Clock } from '../ports/clock.js';
import type { AppendResult, EventStore, NewEvent, RecordedEvent } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import { ProviderUnavailable } from '../ports/payment-provider.js';
import type { LoadedRefund } from './refund-stream.js';
import { loadRefund } from './refund-stream.js';

/*
 * The steps a refund goes through after its reservation, shared by the HTTP handler (which
 * runs them at once) and the process manager (which finishes whatever a crash left). Each
 * step's event ids are derived from the event that triggered it, so the handler and the
 * process manager issue the *same* write and the event store recognises a repeat
 * (docs/architecture.md, "Recipes": a process manager); a step that finds its work done
 * by the other does nothing.
 */

/** Attempts to settle or release on a payment other refunds keep changing (each conflict is a fresh load). */
export const REFUND_CLOSE_MAX_ATTEMPTS = 20;

/** Who runs a step: recorded in the events' metadata. */
export interface StepActor {
  readonly actor: string;
  readonly correlationId: string;
  readonly idempotencyKey?: string | undefined;
}

/** What asking the processor came to. */
export type ProviderStep = 'final' | 'pending' | 'unavailable' | 'missing';

/** Every write a step made, so the caller can answer with the position of its last one. */
export type Appended = AppendResult[];

export function reservationOf(recorded: RecordedEvent): PaymentRefundReserved | undefined {
  if (recorded.type !== 'PaymentRefundReserved') return undefined;
  const event = toDomainEvent(recorded);
  return event.type === 'PaymentRefundReserved' ? event : undefined;
}

export class RefundSteps {
  constructor(
    private readonly store: EventStore,
    private readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  private newEvents(events: readonly (PaymentEvent | RefundEvent)[], idOf: (i: number) => string, cause: RecordedEvent, who: StepActor, schemaVersion: number): NewEvent[] {
    const occurredAt = this.clock.now().toISOString();
    return events.map((e, i) => ({
      id: idOf(i),
      type: e.type,
      data: e.data,
      metadata: {
        correlationId: who.correlationId,
        causationId: cause.id,
        actor: who.actor,
        occurredAt,
        schemaVersion,
        ...(who.idempotencyKey ? { idempotencyKey: who.idempotencyKey } : {}),
      },
    }));
  }

  /** Creates the refund from its reservation (which carries reason and metadata), unless it exists. */
  async request(reservation: RecordedEvent, who: StepActor, appended: Appended): Promise<LoadedRefund> {
    const r = reservationOf(reservation);
    if (!r) throw new Error(`${reservation.type} is not a refund reservation`);
    const { refundId, paymentId, customerId, amount, currency, reason, metadata } = r.data;
    const stream = refundStream(refundId);
    const decision = decideRefund({ exists: false }, { type: 'RequestRefund', request: { refundId, paymentId, customerId, amount, currency, reason, metadata } });
    if (!decision.ok) throw new Error(`requesting refund ${refundId}: ${decision.error.code}`);
    try {
      const events = this.newEvents(decision.value, (i) => this.ids.uuidFrom(`refund-requested\u0000${reservation.id}\u0000${i}`), reservation, who, CURRENT_REFUND_SCHEMA_VERSION);
      appended.push(await this.store.append(stream, events, 'no_stream'));
    } catch (error) {
      // Created by the other runner of this step: its write is ours.
      if (!(error instanceof WrongExpectedVersion)) throw error;
    }
    return loadRefund(this.store, stream);
  }

  /**
   * Asks the processor for the refund (its idempotency key is the refund id: same key, same
   * refund) and, when `retrieve`, asks again about one it left pending. A final answer is
   * recorded on the refund stream.
   */
  async askProvider(refundId: RefundId, who: StepActor, options: { retrieve: boolean }, appended: Appended): Promise<ProviderStep> {
    const loaded = await loadRefund(this.store, refundStream(refundId));
    if (!loaded.state.exists) return 'missing';
    if (loaded.state.status !== 'pending') return 'final';
    const payment = assertExists((await loadPayment(this.store, paymentStream(loaded.state.paymentId))).state);
    if (!payment.providerPaymentId) throw new Error(`payment ${payment.paymentId} has a refund but no processor reference`);
    let answer;
    try {
      answer = await this.provider.refund({ providerPaymentId: payment.providerPaymentId, amount: loaded.state.amount, currency: loaded.state.currency, idempotencyKey: refundId, refundId, paymentId: payment.paymentId });
      if (answer.status === 'pending' && options.retrieve) answer = await this.provider.retrieveRefund(answer.providerRefundId);
    } catch (error) {
      if (error instanceof ProviderUnavailable) return 'unavailable';
      throw error;
    }
    if (answer.status === 'pending') return 'pending';
    await this.recordOutcome(
      loaded,
      answer.status === 'succeeded' ? answer : { status: 'failed', providerRefundId: answer.providerRefundId, failureReason: answer.failureReason },
      who,
      appended,
    );
    return 'final';
  }

  /** Records a final outcome (also the process manager's "failed" after its last attempt); a no-op when the refund has one. */
  async recordOutcome(loaded: LoadedRefund, outcome: RefundOutcome, who: StepActor, appended: Appended): Promise<void> {
    const requested = loaded.recorded[0];
    if (!loaded.state.exists || loaded.revision === undefined || !requested) throw new Error('recording an outcome of a refund that does not exist');
    const decision = decideRefund(loaded.state, { type: 'RecordRefundOutcome', refundId: loaded.state.refundId, outcome });
    // refund_already_final: the other runner recorded another outcome first; it stands.
    if (!decision.ok || decision.value.length === 0) return;
    const events = this.newEvents(decision.value, (i) => this.ids.uuidFrom(`refund-outcome\u0000${requested.id}\u0000${outcome.status}\u0000${i}`), requested, who, CURRENT_REFUND_SCHEMA_VERSION);
    try {
      appended.push(await this.store.append(refundStream(loaded.state.refundId), events, loaded.revision));
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion)) throw error;
    }
  }

  /**
   * Settles (succeeded) or releases (failed, canceled) the refund's reservation on its
   * payment: `pending` while the refund has no outcome, `contended` when other writers kept
   * the payment busy for all attempts (the process manager comes back to it).
   */
  async close(refundId: RefundId, who: StepActor, appended: Appended): Promise<'closed' | 'pending' | 'contended'> {
    const refund = await loadRefund(this.store, refundStream(refundId));
    const outcome = refund.recorded[1];
    if (!refund.state.exists || refund.state.status === 'pending' || !outcome) return 'pending';
    const { paymentId, status } = refund.state;
    const stream = paymentStream(paymentId);
    for (let attempt = 1; attempt <= REFUND_CLOSE_MAX_ATTEMPTS; attempt++) {
      const payment = await loadPayment(this.store, stream);
      const decision = decide(
        payment.state,
        status === 'succeeded' ? { type: 'SettleRefund', paymentId, refundId } : { type: 'ReleaseRefund', paymentId, refundId, outcome: status },
      );
      // A refund stream with an outcome whose reservation is missing or closed the other way is corrupt.
      if (!decision.ok) throw new Error(`closing refund ${refundId} on ${paymentId}: ${decision.error.code}`);
      if (decision.value.length === 0 || payment.revision === undefined) return 'closed';
      const events = this.newEvents(decision.value, (i) => this.ids.uuidFrom(`refund-close\u0000${outcome.id}\u0000${i}`), outcome, who, CURRENT_SCHEMA_VERSION);
      try {
        appended.push(await this.store.append(stream, events, payment.revision));
        return 'closed';
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
      }
    }
    return 'contended';
  }
}
