import { firstMessage, startTsWorker } from './worker.js';

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
}

/**
 * Runs the load generator in a worker thread, so that it does not share the event loop of
 * the server under test (both run in this process; they still share the machine's cores).
 */
export async function runHttpLoad(spec: HttpLoadSpec): Promise<HttpLoadReport> {
  const worker = startTsWorker(new URL('./http-load-worker.ts', import.meta.url), spec);
  try {
    return await firstMessage<HttpLoadReport>(worker, spec.warmupMs + spec.durationMs + 30_000);
  } finally {
    await worker.terminate();
  }
}
