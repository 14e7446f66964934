import { sleep } from '../../application/support/timing.js';
import { pruneOnce, type Queryable } from './change-feed-sql.js';
import { errorFields, type RealtimeLogger } from './logger.js';

export interface RetentionOptions {
  readonly pool: Queryable;
  readonly logger: RealtimeLogger;
  /** Rows older than this are deleted. Default 7 days. */
  readonly retentionMs?: number;
  /** Time between runs. Default 15 minutes. */
  readonly intervalMs?: number;
  /** Rows per DELETE, so no statement holds locks or bloats WAL for long. Default 5,000. */
  readonly chunkSize?: number;
  /** Chunks per run; the rest waits for the next run. Default 100. */
  readonly maxChunksPerRun?: number;
}

export const RETENTION_DEFAULTS = {
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  intervalMs: 15 * 60 * 1000,
  chunkSize: 5_000,
  maxChunksPerRun: 100,
} as const;

/**
 * Deletes old rows of `realtime_changes` in bounded chunks until none are left (or the
 * per-run budget is spent). Returns the number deleted.
 */
export async function pruneChanges(options: RetentionOptions, signal?: AbortSignal): Promise<number> {
  const retentionMs = options.retentionMs ?? RETENTION_DEFAULTS.retentionMs;
  const chunkSize = options.chunkSize ?? RETENTION_DEFAULTS.chunkSize;
  const maxChunks = options.maxChunksPerRun ?? RETENTION_DEFAULTS.maxChunksPerRun;
  let total = 0;
  for (let chunk = 0; chunk < maxChunks && !signal?.aborted; chunk += 1) {
    const deleted = await pruneOnce(options.pool, retentionMs, chunkSize);
    total += deleted;
    if (deleted < chunkSize) break;
    // Leave room for the runner's inserts and the tailer's reads between chunks.
    await sleep(10, signal);
  }
  return total;
}

/**
 * Runs pruneChanges periodically. Every instance runs one: SKIP LOCKED makes concurrent
 * runs split the work instead of blocking, so electing a single pruner is not worth it.
 */
export class RetentionPruner {
  readonly #options: RetentionOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const interval = this.#options.intervalMs ?? RETENTION_DEFAULTS.intervalMs;
    const signal = this.#abort.signal;
    // A random first delay, so instances started together do not prune in lockstep.
    await sleep(Math.round(Math.random() * Math.min(interval, 60_000)), signal);
    while (!signal.aborted) {
      try {
        const deleted = await pruneChanges(this.#options, signal);
        if (deleted > 0) this.#options.logger.info({ deleted }, 'realtime: pruned old changes');
      } catch (error) {
        this.#options.logger.warn(errorFields(error), 'realtime: pruning old changes failed; will retry');
      }
      await sleep(interval, signal);
    }
  }
}
