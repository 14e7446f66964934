import { LatencyRecorder, now } from './stats.js';

export interface ClosedLoopOptions {
  /** Loops running at once, each waiting for its operation before starting the next. */
  readonly concurrency: number;
  /** Operations run but not measured, to warm connections, caches and the JIT. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Upper bound on measured operations; the run ends at this count or at durationMs, whichever first. */
  readonly maxOps: number;
  /** The run stops early after this many failed operations (and reports the first error). */
  readonly maxErrors?: number;
}

export interface ClosedLoopResult {
  /** Operations that started in the measured window and succeeded. */
  readonly ops: number;
  /** What they did, in the caller's unit (events, rows, requests); ops when the operation returns nothing. */
  readonly units: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  /** From the start of the measured window to the end of its last operation. */
  readonly elapsedMs: number;
  readonly latencies: Float64Array;
  /** units per second */
  readonly rate: number;
  /** Units of every successful operation, warm-up included (to normalise server-side counters). */
  readonly allUnits: number;
}

/**
 * `op(loop, iteration)` performs one operation and returns how many units it did (default 1).
 * Every loop runs until the measured window closes; operations that start during warm-up are
 * not counted. Bounded by time and by count.
 */
export async function runClosedLoop(
  options: ClosedLoopOptions,
  op: (loop: number, iteration: number) => Promise<number | void>,
): Promise<ClosedLoopResult> {
  const { concurrency, warmupMs, durationMs, maxOps } = options;
  const maxErrors = options.maxErrors ?? 50;
  const latencies = new LatencyRecorder();
  const started = now();
  const measureFrom = started + warmupMs;
  const measureUntil = measureFrom + durationMs;
  let ops = 0;
  let startedOps = 0;
  let units = 0;
  let allUnits = 0;
  let errors = 0;
  let firstError: string | undefined;
  let lastEnd = measureFrom;

  const loop = async (index: number): Promise<void> => {
    for (let iteration = 0; ; iteration++) {
      const t0 = now();
      if (t0 >= measureUntil || errors >= maxErrors) return;
      const measured = t0 >= measureFrom;
      if (measured) {
        if (startedOps >= maxOps) return;
        startedOps++;
      }
      try {
        const done = await op(index, iteration);
        const t1 = now();
        allUnits += typeof done === 'number' ? done : 1;
        if (measured) {
          ops++;
          units += typeof done === 'number' ? done : 1;
          latencies.record(t1 - t0);
          if (t1 > lastEnd) lastEnd = t1;
        }
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(i)));
  const elapsedMs = Math.max(lastEnd - measureFrom, 1e-3);
  return { ops, units, errors, firstError, elapsedMs, latencies: latencies.values(), rate: (units * 1000) / elapsedMs, allUnits };
}

/** Runs `fn(i)` for i in [0, count) with at most `concurrency` at once; stops starting new ones after `timeLimitMs`. */
export async function forEachConcurrently(
  count: number,
  concurrency: number,
  timeLimitMs: number,
  fn: (index: number) => Promise<void>,
): Promise<number> {
  const deadline = now() + timeLimitMs;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count && now() < deadline) {
      const i = next++;
      await fn(i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
  return done;
}
