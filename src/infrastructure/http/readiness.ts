import { TimeoutError, withTimeout } from '../../application/support/timing.js';
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
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    await withTimeout(check.check(controller.signal), timeoutMs, `readiness check ${check.name}`);
    return { name: check.name, status: 'ok', durationMs: elapsed() };
  } catch (error) {
    if (!(error instanceof TimeoutError)) return { name: check.name, status: 'failed', durationMs: elapsed(), error };
    controller.abort();
    return { name: check.name, status: 'timed_out', durationMs: elapsed() };
  }
}
