/**
 * Small bounds that keep one misbehaving client from costing everyone else: a token
 * bucket for request rates and a counting semaphore for database work.
 */

/** The clock of a time-based bound: milliseconds, injectable so tests need no timers. */
interface ClockOption {
  readonly now?: () => number;
}

/** A positive bound's check, once for every limiter here: a zero or NaN setting is a bug, not a policy. */
function requirePositive(what: string, checks: Readonly<Record<string, boolean>>): void {
  const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
  if (failed.length > 0) throw new RangeError(`${what} needs ${failed.join(' and ')}`);
}

export interface TokenBucketOptions extends ClockOption {
  /** Burst size. */
  readonly capacity: number;
  /** Sustained rate. */
  readonly refillPerSecond: number;
}

export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: TokenBucketOptions) {
    requirePositive('token bucket', { 'capacity >= 1': options.capacity >= 1, 'refillPerSecond > 0': options.refillPerSecond > 0 });
    this.#capacity = options.capacity;
    this.#refillPerMs = options.refillPerSecond / 1000;
    this.#now = options.now ?? Date.now;
    this.#tokens = options.capacity;
    this.#updatedAt = this.#now();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    const now = this.#now();
    // Math.max: a clock that steps back must not drain the bucket.
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#refillPerMs);
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** A counting semaphore; waiters are served first come, first served. */
export class Semaphore {
  #available: number;
  readonly #waiters: Array<() => void> = [];

  constructor(permits: number) {
    requirePositive('semaphore', { 'permits >= 1': permits >= 1 });
    this.#available = permits;
  }

  /** Resolves with the function that gives the permit back (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.#available > 0) {
      this.#available -= 1;
    } else {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // Hand the permit straight to the next waiter, so a newcomer cannot overtake it.
      if (next) next();
      else this.#available += 1;
    };
  }
}

export interface SlidingWindowCounterOptions extends ClockOption {
  /** How many events within `windowMs` trip the counter. */
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Counts events over a sliding window, e.g. a socket's refused requests. Holds at most
 * `max` timestamps, whatever the event rate.
 */
export class SlidingWindowCounter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #times: number[] = [];

  constructor(options: SlidingWindowCounterOptions) {
    requirePositive('sliding window counter', { 'max >= 1': options.max >= 1, 'windowMs > 0': options.windowMs > 0 });
    this.#max = options.max;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Records one event; true when it is the `max`-th within the window. */
  record(): boolean {
    const now = this.#now();
    const cutoff = now - this.#windowMs;
    while (this.#times.length > 0 && (this.#times[0] ?? now) <= cutoff) this.#times.shift();
    this.#times.push(now);
    if (this.#times.length > this.#max) this.#times.shift();
    return this.#times.length >= this.#max;
  }
}
