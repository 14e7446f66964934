/**
 * A pause that ends early: on its timeout, on an abort signal, or when someone calls
 * `wake()` (a restart, a stop). Never rejects, so loops can simply `await` it.
 */
export class WakeUp {
  private pending: (() => void) | undefined;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.pending === done) this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.pending = done;
    });
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    this.pending?.();
  }
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new WakeUp().sleep(ms, signal);
