/** Latency samples in milliseconds; grows as needed, bounded by `capacity`. */
export class LatencyRecorder {
  #values: Float64Array;
  #count = 0;
  #dropped = 0;

  constructor(private readonly capacity = 2_000_000) {
    this.#values = new Float64Array(Math.min(capacity, 16_384));
  }

  record(ms: number): void {
    if (this.#count === this.#values.length) {
      if (this.#count >= this.capacity) {
        this.#dropped++;
        return;
      }
      const bigger = new Float64Array(Math.min(this.capacity, this.#values.length * 2));
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** Samples beyond capacity, not recorded. */
  get dropped(): number {
    return this.#dropped;
  }

  values(): Float64Array {
    return this.#values.slice(0, this.#count);
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(values: Float64Array | readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

/** 12,345 */
export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

/** 1.23 ms (3 significant digits, at least 2 decimals below 1 ms). */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toPrecision(3)} ms`;
  return `${Math.round(ms)} ms`;
}

/** Two decimals, rounded down: a ratio just under a target never prints as the target itself. */
export const fmtRatio = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? '—' : (Math.floor(r * 100) / 100).toFixed(2));

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now();
