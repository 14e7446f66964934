import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import { formatPosition, isAfter, START } from '../ports/position.js';
import { sleep } from '../support/timing.js';
import type { BillingSettleSession, BillingSettler } from './billing-clock.js';
import type { BillingProcess } from './billing-process.js';
import { isBillingProcessEventType } from './billing-process.js';
import { laterPosition } from './billing-steps.js';

/*
 * How the billing clock waits for the consequences of its own writes (docs/architecture.md,
 * "Subscriptions"): it follows the log itself from where its run began, handing every
 * billing event to the process manager, until it has passed everything those handlings
 * wrote; then it waits until the due-work read model has it too. The background runner
 * (projections/billing/billing-process-runner.ts) handles the same events: both are safe
 * because every step derives its ids from its cause, so the second handling of an event
 * writes nothing. The clock thus never waits for another instance that may be down, and a
 * test clock's advance answers when its work is done.
 */

export interface LogBillingSettlerOptions {
  /** Events read per page. */
  readonly pageSize: number;
  /** Events one settle reads at most (the log may be busy with unrelated traffic). */
  readonly maxEventsPerSettle: number;
  /** Longest one settle waits for writes it knows of to become readable, and for the read model. */
  readonly timeoutMs: number;
  /** Pause while a known write is not yet readable (an older transaction is still in flight). */
  readonly pollMs: number;
}

export const DEFAULT_SETTLER_OPTIONS: LogBillingSettlerOptions = Object.freeze({ pageSize: 500, maxEventsPerSettle: 1_000_000, timeoutMs: 30_000, pollMs: 5 });

/** A settle that could not finish: the processor unreachable, or the read model not catching up. */
export class BillingNotSettled extends Error {
  override readonly name = 'BillingNotSettled';
}

export class LogBillingSettler implements BillingSettler {
  constructor(
    private readonly store: EventStore,
    private readonly process: BillingProcess,
    /** Resolves true once the due-work read model has applied `position`, false after `timeoutMs`. */
    private readonly readModelAt: (position: Position, timeoutMs: number) => Promise<boolean>,
    private readonly clock: Clock,
    private readonly options: LogBillingSettlerOptions = DEFAULT_SETTLER_OPTIONS,
    /** Where the background runner's checkpoint is (undefined: it never ran). */
    private readonly runnerCheckpoint?: () => Promise<Position | undefined>,
  ) {}

  async begin(): Promise<BillingSettleSession> {
    const head = await this.store.headPosition();
    let cursor: Position = head ?? START;
    if (head !== undefined) {
      // What the background runner has not handled yet (it lags, or waits on the processor) is
      // this run's to finish first, so that a subscription created just before an advance has
      // its first invoice, and an advance asked again after the processor came back finishes
      // the charge the first one could not make. Handling an event twice writes nothing.
      const behind = this.runnerCheckpoint ? await this.runnerCheckpoint() : undefined;
      if (behind !== undefined && isAfter(head, behind)) cursor = await this.follow(behind, head);
      // And the due-work source must see all of it before it is first asked.
      await this.awaitReadModel(cursor);
    }
    return {
      settle: async (written) => {
        cursor = await this.follow(cursor, written);
        await this.awaitReadModel(cursor);
      },
    };
  }

  private async awaitReadModel(position: Position): Promise<void> {
    const deadline = this.clock.now().getTime() + this.options.timeoutMs;
    // The read model's wait is bounded per call: ask again until the deadline.
    while (!(await this.readModelAt(position, Math.max(1, deadline - this.clock.now().getTime())))) {
      if (this.clock.now().getTime() >= deadline) throw new BillingNotSettled(`the billing read model did not reach ${formatPosition(position)} within ${this.options.timeoutMs} ms; are projections running?`);
    }
  }

  /** Handles billing events after `from` until past `written` and everything the handling wrote; the new cursor. */
  private async follow(from: Position, written: Position | undefined): Promise<Position> {
    let cursor = from;
    let watermark = written;
    let read = 0;
    const deadline = this.clock.now().getTime() + this.options.timeoutMs;
    for (;;) {
      const page = await this.store.readAll({ after: cursor, maxCount: this.options.pageSize });
      for (const event of page) {
        if (isBillingProcessEventType(event.type)) {
          const outcome = await this.process.handle(event);
          if (outcome.kind !== 'done') throw new BillingNotSettled(`billing work after ${event.type} ${event.id} must wait: ${outcome.reason}`);
          watermark = laterPosition(watermark, outcome.position);
        }
        cursor = event.position;
      }
      read += page.length;
      if (read > this.options.maxEventsPerSettle) throw new BillingNotSettled(`more than ${this.options.maxEventsPerSettle} events to read while settling`);
      if (page.length === this.options.pageSize) continue;
      if (watermark === undefined || !isAfter(watermark, cursor)) return cursor;
      // A write we know of is not readable yet: an older transaction still holds the log's horizon.
      if (this.clock.now().getTime() >= deadline) throw new BillingNotSettled(`${formatPosition(watermark)} did not become readable within ${this.options.timeoutMs} ms`);
      await sleep(this.options.pollMs);
    }
  }
}
