import { forkTs, nextMessage, stopChild } from './processes.js';

/** What the load generator does: a closed loop of keep-alive POSTs (node:http Agent). */
export interface HttpLoadSpec {
  readonly url: string;
  readonly path: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly expectStatus: number;
  /** Sent with every request (e.g. authorization). */
  readonly headers: Readonly<Record<string, string>>;
  /** A fresh `Idempotency-Key` (a random UUID) on every request. */
  readonly idempotencyKey: boolean;
}

export interface HttpLoadReport {
  readonly requests: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  /** Successful requests including warm-up (to normalise server-side counters). */
  readonly allRequests: number;
  /** Successful requests per second in the measured window. */
  readonly rate: number;
  readonly latencies: Float64Array;
  /** Requests answered between the window-start and window-end messages (what CPU time is divided by). */
  readonly windowRequests: number;
  /** Wall time between those two messages, ms. */
  readonly windowMs: number;
}

/** The parent's answer to window-end: its readings are taken, the generator may report and exit. */
export type ToLoadGenerator = { readonly kind: 'report-please' };

/** Messages from the load generator process, in this order. */
export type FromLoadGenerator =
  | { readonly kind: 'window-start' }
  | { readonly kind: 'window-end' }
  | { readonly kind: 'report'; readonly report: HttpLoadReport };

/** Called when the measured window opens and closes, with the load generator's pid (for /proc). */
export interface WindowHooks {
  onWindowStart?(loadGeneratorPid: number): Promise<void>;
  onWindowEnd?(loadGeneratorPid: number): Promise<void>;
}

const isMessage =
  <K extends FromLoadGenerator['kind']>(kind: K) =>
  (m: unknown): m is Extract<FromLoadGenerator, { kind: K }> =>
    typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === kind;

/**
 * Runs the load generator in a process of its own, so that neither its event loop nor its
 * CPU time is the server's (they still share the machine's cores).
 */
export async function runHttpLoad(spec: HttpLoadSpec, hooks: WindowHooks = {}): Promise<HttpLoadReport> {
  const child = forkTs(new URL('./http-load-process.ts', import.meta.url), [JSON.stringify(spec)]);
  const pid = child.pid ?? -1;
  try {
    const limitMs = spec.warmupMs + spec.durationMs + 30_000;
    const reported = nextMessage(child, isMessage('report'), limitMs);
    // A failed child rejects `reported`; the window hooks must not leave it unhandled meanwhile.
    reported.catch(() => undefined);
    await nextMessage(child, isMessage('window-start'), limitMs);
    await hooks.onWindowStart?.(pid);
    await nextMessage(child, isMessage('window-end'), limitMs);
    await hooks.onWindowEnd?.(pid);
    const please: ToLoadGenerator = { kind: 'report-please' };
    child.send(please);
    return (await reported).report;
  } finally {
    await stopChild(child, 5_000);
  }
}
