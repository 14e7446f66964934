import type { PaymentIntentQueue, PendingPaymentItem } from '../ports/payment-intent-queue.js';
import { backoff, sleep } from '../support/timing.js';
import type { PaymentIntents, PendingRequest } from './payment-intents.js';

/**
 * Finishes every payment request that its own command did not (docs/architecture.md,
 * "Payments: intent first"): the process crashed between the processor call and the
 * outcome's append, the processor was unreachable and the client never retried, or the
 * command was keyless and could not be retried at all. Its memory is the payment_intents
 * projection; its one step is PaymentIntents.complete, exactly what a same-key retry runs
 * (the key the request recorded, outcome ids derived from the request event), so the
 * completer and a late retry racing each other write the outcome once.
 *
 * It waits a grace period after each request (longer than a request's own timeout) so it
 * does not race the command still completing it. It never gives up on an item: money may
 * have moved at the processor, so the outcome must be learnt; an unreachable processor is
 * retried with capped backoff.
 */
export interface PaymentIntentCompleterOptions {
  /** How old a request must be before the completer takes it over from its command. */
  readonly graceMs: number;
  /** Items taken per claim. */
  readonly batchSize: number;
  /** How long a claimed item is hidden from other claimers; longer than one processor call takes. */
  readonly claimLeaseMs: number;
  /** Retry spacing when the processor is unreachable (exponential, jittered, capped). */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Pause between claims when nothing was due. */
  readonly idlePollMs: number;
}

export const DEFAULT_PAYMENT_INTENT_COMPLETER_OPTIONS: PaymentIntentCompleterOptions = Object.freeze({
  graceMs: 60_000,
  batchSize: 20,
  claimLeaseMs: 60_000,
  retryMinMs: 2_000,
  retryMaxMs: 5 * 60_000,
  idlePollMs: 1_000,
});

export const PAYMENT_INTENT_COMPLETER_ACTOR = 'payment-intent-completer';

export interface PaymentIntentCompleterLogger {
  warn(fields: object, message: string): void;
  info?(fields: object, message: string): void;
}

export type CompletedItem = 'answered' | 'not_pending' | 'unavailable' | 'failed';

export class PaymentIntentCompleter {
  constructor(
    private readonly intents: PaymentIntents,
    private readonly queue: PaymentIntentQueue,
    private readonly options: PaymentIntentCompleterOptions = DEFAULT_PAYMENT_INTENT_COMPLETER_OPTIONS,
    private readonly logger?: PaymentIntentCompleterLogger,
  ) {}

  /** One claim and its completions; what became of each item, in claim order. */
  async runOnce(): Promise<CompletedItem[]> {
    const items = await this.queue.claimDue(this.options.batchSize, this.options.graceMs, this.options.claimLeaseMs);
    const done: CompletedItem[] = [];
    for (const item of items) done.push(await this.completeItem(item));
    return done;
  }

  /** Claims and completes until the signal aborts; an outage of the queue is waited out. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let handled = 0;
      try {
        handled = (await this.runOnce()).length;
        failures = 0;
      } catch (error) {
        failures++;
        this.logger?.warn({ err: error }, 'payment intent queue unavailable');
      }
      if (handled === 0) await sleep(failures > 0 ? this.delay(failures) : this.options.idlePollMs, signal, { keepsProcessAlive: false });
    }
  }

  private async completeItem(item: PendingPaymentItem): Promise<CompletedItem> {
    try {
      const result = await this.intents.completePending(item.paymentId, (request) => ({ ctx: contextFor(request) }));
      if (result.kind !== 'unavailable') {
        // The projection removes the item when it sees the outcome; nothing to do here.
        this.logger?.info?.({ paymentId: item.paymentId, operation: item.operation, result: result.kind }, 'payment request completed');
        return result.kind;
      }
      await this.queue.reschedule(item, item.attempts + 1, this.delay(item.attempts + 1));
      return 'unavailable';
    } catch (error) {
      // A bug or an outage of the store: logged, tried again later like an unreachable processor, never dropped.
      this.logger?.warn({ err: error, paymentId: item.paymentId }, 'payment request completion failed; will retry');
      await this.queue.reschedule(item, item.attempts + 1, this.delay(item.attempts + 1));
      return 'failed';
    }
  }

  private delay(attempt: number): number {
    return backoff(attempt, { minMs: this.options.retryMinMs, maxMs: this.options.retryMaxMs });
  }
}

/** The outcome follows its request: same correlation, caused by it, written by the completer. */
const contextFor = (request: PendingRequest) => ({
  correlationId: request.recorded.metadata.correlationId,
  causationId: request.recorded.id,
  actor: PAYMENT_INTENT_COMPLETER_ACTOR,
});
