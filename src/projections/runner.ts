import type { EventStore } from '../application/ports/event-store.js';
import type { ProjectionStore } from '../application/ports/projection-store.js';
import type { Result } from '../domain/result.js';
import { assertProjectionName } from './apply-events.js';
import type { ProjectionLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { ProjectionObserver } from './observer.js';
import { silentObserver } from './observer.js';
import { LiveGroup } from './live-group.js';
import type { Projection } from './projection.js';
import type { WorkerSnapshot } from './projection-worker.js';
import { ProjectionWorker } from './projection-worker.js';
import { ProjectionRebuilder } from './rebuild.js';
import type { RestartError } from './restart.js';
import { restartProjection } from './restart.js';

export type { RestartError } from './restart.js';

export interface ProjectionRunnerDeps {
  readonly eventStore: EventStore;
  readonly store: ProjectionStore;
  readonly projections: readonly Projection[];
}

export interface ProjectionRunnerOptions {
  /** Shown as the leader in status output; e.g. `${hostname}:${pid}`. */
  readonly instanceId?: string;
  /** Events per batch (= per transaction). Default 500, at most 10,000. */
  readonly batchSize?: number;
  /** How often a follower tries to take the lease, and a failed leader looks for a restart. Default 1,500 ms. */
  readonly leaseRetryMs?: number;
  /** Longest pause between retries after infrastructure errors. Default 15,000 ms. */
  readonly maxBackoffMs?: number;
  readonly logger?: ProjectionLogger;
  /** Told about committed batches, for metrics. Default: nobody. */
  readonly observer?: ProjectionObserver;
  /**
   * Caught-up projections follow the log together: one read and one transaction per batch
   * for all of them (LiveGroup) instead of one each. Default true; false makes each follow alone.
   */
  readonly shareBatches?: boolean;
}

/**
 * Runs every projection it is given, each independently: one failing or lagging
 * projection never holds up another. Start it in every service instance; the lease makes
 * exactly one instance run each projection, and another takes over when that one dies.
 */
export class ProjectionRunner {
  readonly instanceId: string;
  private readonly workers: ProjectionWorker[];
  private readonly logger: ProjectionLogger;
  private controller: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: ProjectionRunnerDeps,
    options: ProjectionRunnerOptions = {},
  ) {
    checkProjections(deps.projections);
    this.instanceId = options.instanceId ?? `instance-${crypto.randomUUID().slice(0, 8)}`;
    const logger = options.logger ?? silentLogger;
    this.logger = logger;
    const batchSize = clamp(options.batchSize ?? 500, 1, 10_000);
    const rebuilder = new ProjectionRebuilder(deps, { batchSize, instanceId: this.instanceId, logger });
    const settings = {
      holder: this.instanceId,
      batchSize,
      leaseRetryMs: clamp(options.leaseRetryMs ?? 1_500, 10, 60_000),
      maxBackoffMs: clamp(options.maxBackoffMs ?? 15_000, 10, 300_000),
      logger,
      observer: options.observer ?? silentObserver,
    };
    const group = options.shareBatches === false ? undefined : new LiveGroup(deps, batchSize);
    this.workers = deps.projections.map((p) => new ProjectionWorker(p, { eventStore: deps.eventStore, store: deps.store, rebuilder, ...(group ? { group } : {}) }, settings));
  }

  /** Starts competing for every projection's lease. Idempotent. */
  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.logger.info({ instanceId: this.instanceId, projections: this.workers.map((w) => w.name) }, 'projection runner started; competing for every projection\'s lease');
    // run() never rejects by design; the catch only keeps a throwing logger from becoming an unhandled rejection.
    this.running = Promise.all(this.workers.map((w) => w.run(controller.signal).catch(() => undefined))).then(() => undefined);
  }

  /**
   * Stops at a committed checkpoint: aborts the subscriptions, lets in-flight batches
   * commit, releases the leases. Resolves when all of that is done.
   */
  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    controller.abort();
    for (const w of this.workers) w.wake();
    await this.running;
    this.controller = undefined;
    this.running = undefined;
  }

  /**
   * Clears a failed projection so that its leader, in this instance or another, resumes
   * from the checkpoint and tries the failing event again (fix the cause first).
   */
  async restart(name: string): Promise<Result<void, RestartError>> {
    const restarted = await restartProjection(this.deps, name);
    // Wake the local worker at once instead of at its next look.
    if (restarted.ok) this.workers.find((w) => w.name === name)?.restarted();
    return restarted;
  }

  /** What this instance is doing with each projection. */
  localState(): WorkerSnapshot[] {
    return this.workers.map((w) => w.snapshot());
  }
}

function checkProjections(projections: readonly Projection[]): void {
  const seen = new Set<string>();
  for (const p of projections) {
    assertProjectionName(p.name);
    if (seen.has(p.name)) throw new Error(`projection ${p.name} is listed twice`);
    seen.add(p.name);
    if (!Number.isSafeInteger(p.version) || p.version < 1) throw new Error(`projection ${p.name}: version must be a positive integer`);
  }
}

const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.floor(n)));
