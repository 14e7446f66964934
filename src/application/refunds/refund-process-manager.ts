import { paymentStream, refundStream } from '../../domain/ids.js';
import type { EventStore } from '../ports/event-store.js';
import type { RefundWorkItem, RefundWorkQueue } from '../ports/refund-work-queue.js';
import { backoff, sleep } from '../support/timing.js';
import { loadRefund } from './refund-stream.js';
import type { Appended, RefundSteps, StepActor } from './refund-steps.js';

/**
 * Finishes every refund a crash or a slow processor left part-way (docs/architecture.md,
 * "Recipes": a process manager). Its memory is the refund_work projection, rebuilt from
 * the log; its commands are RefundSteps, whose event ids derive from the triggering
 * events, so running a step twice (here and in the HTTP handler, or after a restart) is
 * one write. Cases:
 *
 * - a reservation with no refund stream: RefundRequested from the reservation event;
 * - a pending refund: ask the processor again (same idempotency key, so the same refund),
 *   and ask about one it left pending; after `maxProviderAttempts` the refund is failed
 *   (`provider_unresolved`) and its reservation released, never left stuck;
 * - an outcome not yet settled or released on the payment: settle or release it.
 */
export interface RefundProcessManagerOptions {
  /** Tries of the provider step before the refund is failed. */
  readonly maxProviderAttempts: number;
  /** Retry spacing of the provider step (exponential, jittered). */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Items taken per claim. */
  readonly batchSize: number;
  /** How long a claimed item is hidden from other workers; longer than one step takes. */
  readonly claimLeaseMs: number;
  /** Pause between claims when nothing was due. */
  readonly idlePollMs: number;
}

export const DEFAULT_REFUND_PROCESS_OPTIONS: RefundProcessManagerOptions = Object.freeze({
  maxProviderAttempts: 8,
  retryMinMs: 2_000,
  retryMaxMs: 5 * 60_000,
  batchSize: 20,
  claimLeaseMs: 60_000,
  idlePollMs: 1_000,
});

/** What the refund gets as failure reason when the processor never gave a final answer. */
export const UNRESOLVED_FAILURE_REASON = 'provider_unresolved';

const WHO = (item: RefundWorkItem): StepActor => ({ actor: 'refund-process-manager', correlationId: `refund-pm:${item.refundId}` });

export interface RefundProcessLogger {
  warn(fields: object, message: string): void;
}

export class RefundProcessManager {
  constructor(
    private readonly store: EventStore,
    private readonly queue: RefundWorkQueue,
    private readonly steps: RefundSteps,
    private readonly options: RefundProcessManagerOptions = DEFAULT_REFUND_PROCESS_OPTIONS,
    private readonly logger?: RefundProcessLogger,
  ) {}

  /** One claim and its steps; how many items it handled. */
  async runOnce(): Promise<number> {
    const items = await this.queue.claimDue(this.options.batchSize, this.options.claimLeaseMs);
    for (const item of items) {
      try {
        await this.advance(item);
      } catch (error) {
        // A step that throws (a bug, an outage) is retried later like a pending one, and logged.
        this.logger?.warn({ err: error, refundId: item.refundId }, 'refund step failed; will retry');
        await this.queue.reschedule(item, item.attempts, this.delay(item.attempts + 1));
      }
    }
    return items.length;
  }

  /** Claims and works until the signal aborts; an outage of the queue is waited out. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let handled = 0;
      try {
        handled = await this.runOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.logger?.warn({ err: error }, 'refund work queue unavailable');
      }
      if (handled === 0) await sleep(failures > 0 ? this.delay(failures) : this.options.idlePollMs, signal, { keepsProcessAlive: false });
    }
  }

  private delay(attempt: number): number {
    return backoff(attempt, { minMs: this.options.retryMinMs, maxMs: this.options.retryMaxMs });
  }

  private async advance(item: RefundWorkItem): Promise<void> {
    const who = WHO(item);
    const appended: Appended = [];
    const refund = await loadRefund(this.store, refundStream(item.refundId));
    if (!refund.state.exists) {
      const payment = await this.store.readStream(paymentStream(item.paymentId));
      const reservation = payment.events.find((e) => e.id === item.reservationEventId);
      if (!reservation) throw new Error(`reservation ${item.reservationEventId} of ${item.refundId} is not in its payment's stream`);
      await this.steps.request(reservation, who, appended);
    }
    const asked = await this.steps.askProvider(item.refundId, who, { retrieve: true }, appended);
    if (asked === 'pending' || asked === 'unavailable') {
      const attempts = item.attempts + 1;
      if (attempts < this.options.maxProviderAttempts) {
        await this.queue.reschedule(item, attempts, this.delay(attempts));
        return;
      }
      // Never a reservation stuck for ever: after the last try, the refund fails and its money is refundable again.
      const pending = await loadRefund(this.store, refundStream(item.refundId));
      if (pending.state.exists && pending.state.status === 'pending') {
        await this.steps.recordOutcome(pending, { status: 'failed', providerRefundId: null, failureReason: UNRESOLVED_FAILURE_REASON }, who, appended);
      }
    }
    if (asked === 'missing') throw new Error(`refund ${item.refundId} could not be created`);
    const closed = await this.steps.close(item.refundId, who, appended);
    // Closed: the projection removes the item when it sees the settle or release. Otherwise come back.
    if (closed !== 'closed') await this.queue.reschedule(item, item.attempts, this.delay(1));
  }
}
