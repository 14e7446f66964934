/** Waits `ms`, or less if `signal` aborts; never rejects, so shutdown is not an error path. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Exponential backoff with jitter, capped: attempt 1 waits about minMs, then doubling up to
 * maxMs. The jitter (50–100 %) keeps instances that lost the database together from
 * coming back in lockstep.
 */
export function backoffMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}
