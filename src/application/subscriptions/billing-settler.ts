import type { Clock } from '../ports/clock.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.js';
import type { Position } from '../ports/position.js';
import { formatPosition, isAfter } from '../ports/position.js';
import { mapConcurrently } from '../support/concurrently.js';
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
  /** Subscriptions whose events are handled at once. */
  readonly concurrency: number;
}

export const DEFAULT_SETTLER_OPTIONS: LogBillingSettlerOptions = Object.freeze({ pageSize: 500, maxEventsPerSettle: 1_000_000, timeoutMs: 30_000, pollMs: 5, concurrency: 8 });

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
    /**
     * The background runner's checkpoint (every billing event before it has been handled), and
     * a compare-and-set that moves it on past what a settle handled, so the runner skips it.
     */
    private readonly processCheckpoint: { read(): Promise<Position>; move(from: Position, to: Position): Promise<boolean> },
    private readonly clock: Clock,
    private readonly options: LogBillingSettlerOptions = DEFAULT_SETTLER_OPTIONS,
  ) {}

  async begin(): Promise<BillingSettleSession> {
    // From where the background runner has got to: what it has not handled yet (a subscription
    // just created, whose first invoice is not issued) must be done before the clock looks.
    let cursor: Position = await this.processCheckpoint.read();
    return {
      settle: async (written) => {
        cursor = await this.follow(cursor, written);
        // Everything up to the runner's checkpoint the runner handled, everything after it up to
        // the cursor this session did (it began at that checkpoint or before; checkpoints only move
        // forward): the runner may skip to the cursor. Losing the race to the runner changes nothing.
        const stored = await this.processCheckpoint.read();
        if (isAfter(cursor, stored)) await this.processCheckpoint.move(stored, cursor);
        const deadline = this.clock.now().getTime() + this.options.timeoutMs;
        // The read model's wait is bounded per call: ask again until the deadline.
        while (!(await this.readModelAt(cursor, Math.max(1, deadline - this.clock.now().getTime())))) {
          if (this.clock.now().getTime() >= deadline) throw new BillingNotSettled(`the billing read model did not reach ${formatPosition(cursor)} within ${this.options.timeoutMs} ms; are projections running?`);
        }
      },
    };
  }

  /** Handles billing events after `from` until past `written` and everything the handling wrote; the new cursor. */
  private async follow(from: Position, written: Position | undefined): Promise<Position> {
    let cursor = from;
    let watermark = written;
    let read = 0;
    // Bounds waiting for a write to become readable, not the handling: restarted by every page read.
    let deadline = this.clock.now().getTime() + this.options.timeoutMs;
    for (;;) {
      const page = await this.store.readAll({ after: cursor, maxCount: this.options.pageSize });
      // One subscription's events in log order; different subscriptions' side by side (a group of renewals).
      const bySubscription = new Map<string, RecordedEvent[]>();
      for (const event of page) {
        if (!isBillingProcessEventType(event.type)) continue;
        const key = (event.data as { subscriptionId?: unknown }).subscriptionId;
        const chain = bySubscription.get(String(key));
        if (chain) chain.push(event);
        else bySubscription.set(String(key), [event]);
      }
      const handled = await mapConcurrently([...bySubscription.values()], this.options.concurrency, async (chain) => {
        let newest: Position | undefined;
        for (const event of chain) {
          const outcome = await this.process.handle(event);
          if (outcome.kind !== 'done') throw new BillingNotSettled(`billing work after ${event.type} ${event.id} must wait: ${outcome.reason}`);
          newest = laterPosition(newest, outcome.position);
        }
        return newest;
      });
      watermark = handled.reduce(laterPosition, watermark);
      cursor = page.at(-1)?.position ?? cursor;
      read += page.length;
      if (page.length > 0) deadline = this.clock.now().getTime() + this.options.timeoutMs;
      if (read > this.options.maxEventsPerSettle) throw new BillingNotSettled(`more than ${this.options.maxEventsPerSettle} events to read while settling`);
      if (page.length === this.options.pageSize) continue;
      if (watermark === undefined || !isAfter(watermark, cursor)) return cursor;
      // A write we know of is not readable yet: an older transaction still holds the log's horizon.
      if (this.clock.now().getTime() >= deadline) throw new BillingNotSettled(`${formatPosition(watermark)} did not become readable within ${this.options.timeoutMs} ms`);
      await sleep(this.options.pollMs);
    }
  }
}
