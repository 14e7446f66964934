import type { Position } from '../application/ports/position.js';
import { comparePositions } from '../application/ports/position.js';
import type { ProjectionProgressFeed, ProjectionStore } from '../application/ports/projection-store.js';
import type { ProjectionLogger } from './logger.js';
import { describeError, silentLogger } from './logger.js';

export interface CheckpointWaiterOptions {
  /** Longest wait any caller gets. Default and ceiling 5,000 ms. */
  readonly maxTimeoutMs?: number;
  /** Waiters beyond this many are answered at once with what is known. Default 1,000. */
  readonly maxWaiters?: number;
  /** Re-read interval while anyone waits, in case a notification was lost. Default 250 ms. */
  readonly pollIntervalMs?: number;
  readonly logger?: ProjectionLogger;
}

interface Waiter {
  readonly position: Position;
  readonly resolve: (reached: boolean) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Read-your-writes for queries: `?minPosition=` waits here until the projection's
 * checkpoint, in whichever instance runs it, reaches the position. One feed subscription
 * and at most one checkpoint read in flight per process, however many requests wait.
 */
export class CheckpointWaiter {
  private readonly maxTimeoutMs: number;
  private readonly maxWaiters: number;
  private readonly pollIntervalMs: number;
  private readonly logger: ProjectionLogger;
  /** Checkpoints only move forward, so the newest one seen is a safe lower bound. */
  private readonly known = new Map<string, Position>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Notifications seen per projection (one entry per projection name, so it stays small). */
  private readonly notified = new Map<string, number>();
  private waiterCount = 0;
  private unsubscribe: (() => void) | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: { readonly names: Set<string>; readonly done: Promise<void> } | undefined;
  private closed = false;

  constructor(
    private readonly deps: { readonly store: Pick<ProjectionStore, 'readCheckpoints'>; readonly feed: ProjectionProgressFeed },
    options: CheckpointWaiterOptions = {},
  ) {
    this.maxTimeoutMs = Math.max(0, Math.min(options.maxTimeoutMs ?? 5_000, 5_000));
    this.maxWaiters = Math.max(0, options.maxWaiters ?? 1_000);
    this.pollIntervalMs = Math.max(10, options.pollIntervalMs ?? 250);
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Subscribes to the progress feed now rather than on the first wait, so that the first
   * waiter does not race the feed's connection. Optional; idempotent.
   */
  start(): void {
    if (!this.closed) this.listen();
  }

  /**
   * True as soon as `projection`'s checkpoint is at or after `position`; false when
   * `timeoutMs` (capped at 5,000) passes first, or when too many requests already wait.
   */
  async waitForPosition(projection: string, position: Position, timeoutMs: number): Promise<boolean> {
    if (this.reached(projection, position)) return true;
    if (this.closed) return false;
    this.listen();
    // A notification that lands while the first read runs finds no waiter to wake yet;
    // counting them lets the new waiter notice it instead of sleeping until the next poll.
    const seen = this.notified.get(projection) ?? 0;
    await this.read([projection]);
    if (this.reached(projection, position)) return true;
    const timeout = Math.max(0, Math.min(Number.isFinite(timeoutMs) ? timeoutMs : 0, this.maxTimeoutMs));
    if (timeout === 0 || this.waiterCount >= this.maxWaiters || this.closed) return false;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => this.settle(projection, waiter, false), timeout),
      };
      let set = this.waiters.get(projection);
      if (!set) this.waiters.set(projection, (set = new Set()));
      set.add(waiter);
      this.waiterCount += 1;
      this.startPolling();
      if ((this.notified.get(projection) ?? 0) !== seen) this.refresh([projection]);
    });
  }

  /** Answers every waiter with false and stops listening. */
  close(): void {
    this.closed = true;
    for (const [name, set] of this.waiters) for (const w of set) this.settle(name, w, false);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stopPolling();
  }

  private reached(projection: string, position: Position): boolean {
    const checkpoint = this.known.get(projection);
    return checkpoint !== undefined && comparePositions(checkpoint, position) >= 0;
  }

  private listen(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.deps.feed.subscribe((name) => {
      this.notified.set(name, (this.notified.get(name) ?? 0) + 1);
      if (this.waiters.has(name)) this.refresh([name]);
    });
  }

  private refresh(names: readonly string[]): void {
    void this.read(names).catch(() => undefined);
  }

  /**
   * Reads checkpoints for `names`. While a read is in flight, requests queue for the next
   * one: the current read may have started before the commit the caller cares about.
   */
  private read(names: readonly string[]): Promise<void> {
    if (!this.inFlight) return this.startRead(names);
    let queued = this.queued;
    if (!queued) {
      const names = new Set<string>();
      const done = this.inFlight.then(() => {
        this.queued = undefined;
        return this.startRead([...names]);
      });
      queued = this.queued = { names, done };
    }
    for (const n of names) queued.names.add(n);
    return queued.done;
  }

  private startRead(names: readonly string[]): Promise<void> {
    const reading: Promise<void> = this.deps.store
      .readCheckpoints(names)
      .then((checkpoints) => {
        for (const [name, checkpoint] of checkpoints) this.advance(name, checkpoint);
      })
      .catch((error: unknown) => this.logger.warn({ error: describeError(error) }, 'could not read projection checkpoints'))
      .finally(() => {
        if (this.inFlight === reading) this.inFlight = undefined;
      });
    this.inFlight = reading;
    return reading;
  }

  private advance(name: string, checkpoint: Position): void {
    const previous = this.known.get(name);
    if (previous === undefined || comparePositions(checkpoint, previous) > 0) this.known.set(name, checkpoint);
    const set = this.waiters.get(name);
    if (!set) return;
    for (const w of set) if (comparePositions(checkpoint, w.position) >= 0) this.settle(name, w, true);
  }

  private settle(name: string, waiter: Waiter, reached: boolean): void {
    const set = this.waiters.get(name);
    if (!set?.delete(waiter)) return;
    if (set.size === 0) this.waiters.delete(name);
    this.waiterCount -= 1;
    clearTimeout(waiter.timer);
    waiter.resolve(reached);
    if (this.waiterCount === 0) this.stopPolling();
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.refresh([...this.waiters.keys()]), this.pollIntervalMs);
    this.pollTimer.unref?.();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
