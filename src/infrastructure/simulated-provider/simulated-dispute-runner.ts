import type { DisputeCommands } from '../../application/ports/dispute-commands.js';
import type { EventStore, RecordedEvent } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import { START } from '../../application/ports/position.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import { loadPayment } from '../../application/payments/payment-stream.js';
import { paymentStream, isPaymentId } from '../../domain/ids.js';
import { ok } from '../../domain/result.js';
import { LeasedLoop, runSteps } from '../../projections/lease-loop.js';
import type { ProjectionLogger } from '../../projections/logger.js';
import { silentLogger } from '../../projections/logger.js';
import { projectionSchema } from '../../projections/projection.js';
import { isDisputedIntent, simulatedDisputeOf } from './simulated-disputes.js';

/*
 * The simulated processor's side of pm_card_createDispute (issue 10): after a capture of
 * such an intent, the processor opens a dispute and tells us, as Stripe would with a
 * `charge.dispute.created` webhook. Here "telling us" is a checkpointed reaction to
 * PaymentCaptured, led by one instance (a run lease, like the billing process runner): its
 * memory is the log and its checkpoint. A crash between the sync and the checkpoint syncs
 * the same snapshot again, which appends nothing (the dispute's id and event ids derive from
 * it). A sync that must wait (the payment not yet in the processor-id index) holds the
 * checkpoint at its event and is tried again with backoff. Only runs with PAYMENT_PROVIDER=simulated.
 */

export const SIMULATED_DISPUTES_NAME = 'simulated_disputes';
const SPEC = { name: SIMULATED_DISPUTES_NAME, version: 1, schemaSql: '' } as const;
const RETRY_BACKOFF = { minMs: 500, maxMs: 30_000 } as const;

export interface SimulatedDisputeRunnerOptions {
  readonly instanceId: string;
  /** Events read per batch (default 200). */
  readonly batchSize?: number;
  /** Pause when the log has nothing new (default 250 ms). */
  readonly idlePollMs?: number;
  readonly leaseRetryMs?: number;
  readonly logger?: ProjectionLogger;
}

export type SimulatedDisputeStep =
  | { readonly kind: 'idle' }
  | { readonly kind: 'handled'; readonly to: Position; readonly opened: number }
  | { readonly kind: 'waiting'; readonly reason: string }
  | { readonly kind: 'moved' };

export class SimulatedDisputeRunner {
  private readonly batchSize: number;
  private readonly logger: ProjectionLogger;
  private readonly loop: LeasedLoop;
  private registered = false;

  constructor(
    private readonly deps: { readonly eventStore: EventStore; readonly store: ProjectionStore; readonly disputes: DisputeCommands },
    private readonly options: SimulatedDisputeRunnerOptions,
  ) {
    this.batchSize = Math.min(10_000, Math.max(1, Math.floor(options.batchSize ?? 200)));
    this.logger = options.logger ?? silentLogger;
    this.loop = new LeasedLoop(
      { leases: this.deps.store, name: SIMULATED_DISPUTES_NAME, holder: options.instanceId, retryMs: options.leaseRetryMs ?? 1_500, logger: this.logger },
      (signal) => this.lead(signal),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch from the stored checkpoint: open the disputes its captures call for, then move the checkpoint. */
  async runOnce(): Promise<SimulatedDisputeStep> {
    await this.register();
    const from = (await this.deps.store.readCheckpoints([SIMULATED_DISPUTES_NAME])).get(SIMULATED_DISPUTES_NAME) ?? START;
    const events = await this.deps.eventStore.readAll({ after: from, maxCount: this.batchSize });
    if (events.length === 0) return { kind: 'idle' };
    let to: Position | undefined;
    let waiting: string | undefined;
    let opened = 0;
    for (const event of events) {
      if (event.type === 'PaymentCaptured') {
        const outcome = await this.react(event);
        if (outcome.kind === 'wait') {
          waiting = outcome.reason;
          break;
        }
        if (outcome.kind === 'opened') opened++;
      }
      to = event.position;
    }
    if (to !== undefined) {
      const moved = await this.deps.store.commitBatch({ ...SPEC, schema: projectionSchema(SIMULATED_DISPUTES_NAME), from, to }, () => Promise.resolve(ok([])));
      if (moved.kind !== 'committed') return { kind: 'moved' };
    }
    return waiting !== undefined ? { kind: 'waiting', reason: waiting } : { kind: 'handled', to: to ?? from, opened };
  }

  private async react(event: RecordedEvent): Promise<{ kind: 'none' | 'opened' } | { kind: 'wait'; reason: string }> {
    const data = event.data as { paymentId?: unknown; amount?: unknown; currency?: unknown };
    if (typeof data.paymentId !== 'string' || !isPaymentId(data.paymentId)) return { kind: 'none' };
    const payment = (await loadPayment(this.deps.eventStore, paymentStream(data.paymentId))).state;
    if (!payment.exists || payment.providerPaymentId === null || !isDisputedIntent(payment.providerPaymentId) || typeof data.amount !== 'number' || data.amount <= 0) return { kind: 'none' };
    const snapshot = simulatedDisputeOf({ providerPaymentId: payment.providerPaymentId, amount: data.amount, currency: payment.currency, capturedAt: event.metadata.occurredAt });
    const synced = await this.deps.disputes.syncFromProvider(snapshot, { correlationId: event.metadata.correlationId, causationId: event.id, actor: 'simulated-processor' });
    if (synced.ok) return { kind: synced.value.changed ? 'opened' : 'none' };
    switch (synced.error.code) {
      case 'payment_not_found':
      case 'concurrency_conflict':
        return { kind: 'wait', reason: synced.error.code };
      case 'dispute_inconsistent':
        // Retrying cannot change the answer: told, and passed (a person looks at it).
        this.logger.error({ paymentId: data.paymentId, reason: synced.error.message }, 'simulated disputes: the processor\'s dispute was refused');
        return { kind: 'none' };
    }
  }

  private async register(): Promise<void> {
    if (this.registered) return;
    await this.deps.store.register(SPEC);
    this.registered = true;
  }

  private lead(signal: AbortSignal): Promise<void> {
    return runSteps(signal, { label: 'simulated disputes', logger: this.logger, idlePollMs: this.options.idlePollMs ?? 250, retry: RETRY_BACKOFF }, () => this.runOnce());
  }
}
