/**
 * The few timing primitives every layer above the domain needs: a pause that shutdown can
 * cut short, a deadline on a promise, and the backoff that spaces out retries. One copy,
 * so every retry loop and every wait behaves (and is tested) the same way. The domain
 * never imports this: it has no clock.
 */

export interface SleepOptions {
  /**
   * False for a wait that alone should not keep the process alive (a background retry):
   * the process may exit during it, and then the sleep never ends. Default true.
   */
  readonly keepsProcessAlive?: boolean;
}

/**
 * Waits `ms`, or less if `signal` aborts. Never rejects: shutdown is not an error path, so
 * a loop can `await sleep(…)` and then look at its signal.
 */
export function sleep(ms: number, signal?: AbortSignal, options: SleepOptions = {}): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    if (options.keepsProcessAlive === false) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A promise that did not settle within its deadline. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not finish within ${timeoutMs} ms`);
  }
}

/**
 * `promise`, or a TimeoutError after `ms`, whichever comes first. The timer is cleared
 * either way, so a settled race keeps nothing alive. The losing promise is not cancelled
 * (a promise cannot be): pass the same deadline to the work itself when it can stop.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), Math.max(0, ms));
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface BackoffOptions {
  /** The ceiling of the first retry's wait. */
  readonly minMs: number;
  /** The ceiling no retry's wait exceeds, however many attempts failed. */
  readonly maxMs: number;
}

/** Doubling stops mattering long before this; it keeps 2 ** n finite. */
const MAX_BACKOFF_EXPONENT = 30;

/**
 * How long to wait before retry number `attempt` (1 = the first retry): exponential from
 * minMs, capped at maxMs, then jittered down to 50–100 % of that, so that instances that
 * lost the same dependency together do not come back in lockstep.
 */
export function backoff(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), MAX_BACKOFF_EXPONENT);
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/**
 * `ms` moved at random by up to ±`ratio` of itself (0.2 → 80–120 %), for periodic work
 * that many instances start at the same moment.
 */
export function jitter(ms: number, ratio: number, random: () => number = Math.random): number {
  const spread = Math.min(Math.max(ratio, 0), 1);
  return Math.round(ms * (1 - spread + 2 * spread * random()));
}

/**
 * A pause that wake() ends early, for loops that poll but can be told "look now". Waiting
 * from a generation read before the look closes the gap between "the look found nothing"
 * and "start waiting": a wake() in between ends the wait at once.
 */
export class WakeSignal {
  #generation = 0;
  readonly #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  /** Ends every wait in progress, and any wait from an earlier generation. */
  wake(): void {
    this.#generation++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /**
   * Resolves true when woken since generation `since` (at once if already), false after
   * `timeoutMs` or when `signal` aborts. Never rejects.
   */
  async wait(since: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#generation !== since) return true;
    if (signal?.aborted) return false;
    const ended = new AbortController();
    const end = (): void => ended.abort();
    this.#waiters.add(end);
    signal?.addEventListener('abort', end, { once: true });
    try {
      await sleep(timeoutMs, ended.signal);
    } finally {
      this.#waiters.delete(end);
      signal?.removeEventListener('abort', end);
    }
    return this.#generation !== since;
  }

  /** A wait from now: only a wake() after this call ends it early. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return this.wait(this.#generation, ms, signal);
  }
}
