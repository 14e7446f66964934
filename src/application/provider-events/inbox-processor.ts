import type { InboxClaim, InboxFinish, ProviderInbox } from '../ports/provider-inbox.js';
import { mapConcurrently } from '../support/concurrently.js';
import { backoff, sleep, WakeSignal } from '../support/timing.js';
import type { ProviderEventHandler } from './provider-event-handler.js';
import { ParkEvent } from './provider-event-handler.js';

/*
 * Works the inbox (ports/provider-inbox.ts): claims due entries, hands each to the event
 * handler and records what it came to. Every instance may run one: claims are exclusive
 * per entry (SKIP LOCKED) and lapse after `claimLeaseMs`, so a processor that dies
 * mid-event leaves it to another, never stuck. What the handler does is safe to repeat
 * (its writes have ids derived from the event id and it decides from the processor's
 * current view), which is what makes "at least once" from here exactly once in effect.
 *
 * A handler that throws is retried with exponential backoff and jitter; after
 * `maxAttempts` the entry is `failed`: parked, listed for an operator, retried on demand.
 * A handler that knows retrying cannot help throws ParkEvent and parks at once.
 */
export interface InboxProcessorOptions {
  /** Attempts (claims) of one entry before it is parked as failed. */
  readonly maxAttempts: number;
  /** Backoff of the first retry, and the ceiling no retry's wait exceeds. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Entries per claim, and how many of them are handled at once. */
  readonly batchSize: number;
  readonly concurrency: number;
  /**
   * How long a claim hides an entry from other processors: longer than a whole batch takes
   * (a batch is finished together), including Stripe's timeouts and retries.
   */
  readonly claimLeaseMs: number;
  /** Longest pause between looks when nothing was due (a recorded event wakes it sooner). */
  readonly idlePollMs: number;
  /**
   * After a wake, how long to let a burst gather before claiming, so that many events share
   * one claim and one finishing write instead of each costing its own commits while the
   * endpoint is busy acknowledging the next ones.
   */
  readonly wakeGatherMs: number;
}

/** 8 attempts: retries after about 30 s, 1, 2, 4, 8, 16 and 30 min: parked within about an hour. */
export const DEFAULT_INBOX_PROCESSOR_OPTIONS: InboxProcessorOptions = Object.freeze({
  maxAttempts: 8,
  retryMinMs: 30_000,
  retryMaxMs: 30 * 60_000,
  batchSize: 20,
  concurrency: 4,
  claimLeaseMs: 5 * 60_000,
  idlePollMs: 1_000,
  wakeGatherMs: 10,
});

export interface InboxProcessorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export class InboxProcessor {
  private readonly wakeSignal = new WakeSignal();

  constructor(
    private readonly inbox: ProviderInbox,
    private readonly handler: ProviderEventHandler,
    private readonly options: InboxProcessorOptions = DEFAULT_INBOX_PROCESSOR_OPTIONS,
    private readonly logger?: InboxProcessorLogger,
  ) {}

  /** Look now: an event was just recorded, or an operator asked for a retry. */
  wake(): void {
    this.wakeSignal.wake();
  }

  /** One claim and its events, finished in one write; how many entries it handled. */
  async runOnce(): Promise<number> {
    const claims = await this.inbox.claimDue(this.options.batchSize, this.options.claimLeaseMs);
    const finished = await mapConcurrently(claims, this.options.concurrency, (claim) => this.process(claim));
    const lapsed = await this.inbox.finishAll(finished.filter((f): f is InboxFinish => f !== undefined));
    // Claims that lapsed while we worked, taken by another processor: its record stands (our writes were the same ones).
    for (const id of lapsed) this.logger?.warn({ inboxId: id }, 'webhook event claim lapsed before it was recorded; left to its new holder');
    return claims.length;
  }

  /** Claims and works until the signal aborts; an outage of the inbox's database is waited out. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const generation = this.wakeSignal.generation;
      let handled = 0;
      try {
        handled = await this.runOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.logger?.warn({ err: error }, 'webhook inbox unavailable');
      }
      if (handled > 0) continue;
      if (failures > 0) await sleep(this.delay(failures), signal, { keepsProcessAlive: false });
      else if (await this.wakeSignal.wait(generation, this.options.idlePollMs, signal)) await sleep(this.options.wakeGatherMs, signal, { keepsProcessAlive: false });
    }
  }

  private delay(attempt: number): number {
    return backoff(attempt, { minMs: this.options.retryMinMs, maxMs: this.options.retryMaxMs });
  }

  /** Handles one claimed event: its final record, or undefined when it was put back for a retry. */
  private async process(claim: InboxClaim): Promise<InboxFinish | undefined> {
    const who = { inboxId: claim.id, eventId: claim.eventId, type: claim.type, attempt: claim.attempts };
    try {
      const outcome = await this.handler.handle({ eventId: claim.eventId, type: claim.type, createdAt: claim.providerCreatedAt, payload: claim.payload });
      return { claim, status: outcome.status, outcome: outcome.outcome, error: null };
    } catch (error) {
      if (error instanceof ParkEvent) {
        this.logger?.warn({ ...who, reason: error.message }, 'webhook event parked');
        return { claim, status: 'failed', outcome: null, error: error.message };
      }
      if (claim.attempts >= this.options.maxAttempts) {
        this.logger?.warn({ ...who, err: error }, 'webhook event failed on its last attempt; parked');
        return { claim, status: 'failed', outcome: null, error: `${describe(error)} (after ${claim.attempts} attempts)` };
      }
      this.logger?.warn({ ...who, err: error }, 'webhook event failed; will retry');
      if (!(await this.inbox.reschedule(claim, describe(error), this.delay(claim.attempts)))) {
        this.logger?.warn(who, 'webhook event claim lapsed before its retry was scheduled; left to its new holder');
      }
      return undefined;
    }
  }
}
