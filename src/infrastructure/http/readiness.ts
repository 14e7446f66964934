import type { ReadinessCheck } from './deps.js';

export interface ReadinessOutcome {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'timed_out';
  readonly durationMs: number;
  /** For the log only: a check's error may name hosts and credentials' users. */
  readonly error?: unknown;
}

/** Runs every check at once, each bounded by `timeoutMs` (aborting its signal when it runs out). */
export function runReadinessChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<ReadinessOutcome[]> {
  return Promise.all(checks.map((c) => runOne(c, timeoutMs)));
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timed_out');
    }, timeoutMs);
  });
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const result = await Promise.race([check.check(controller.signal).then(() => 'ok' as const), timedOut]);
    return { name: check.name, status: result, durationMs: elapsed() };
  } catch (error) {
    return { name: check.name, status: 'failed', durationMs: elapsed(), error };
  } finally {
    clearTimeout(timer);
  }
}
