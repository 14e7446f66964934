import type { ActivityFeedStore } from '../../application/ports/activity-feed.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import { formatPosition } from '../../application/ports/position.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import { backoff, sleep } from '../../application/support/timing.js';
import type { ProjectionLogger } from '../logger.js';
import { describeError, silentLogger } from '../logger.js';
import { activityRecordOf } from './activity-entries.js';
import { leadWhileLeased } from '../lease-loop.js';

/*
 * The activity feed's own checkpointed loop. The feed's store (MongoDB, or PostgreSQL JSONB)
 * cannot join the projection runner's transaction (docs/architecture.md, "Projections":
 * rows + checkpoint + realtime rows in one transaction), so it follows the other recipe
 * that survives a crash anywhere: write insert-only entries keyed by event id, *then* move
 * the feed's checkpoint, kept in the same store. A crash between the two replays the batch
 * from the old checkpoint; every entry is already there and nothing changes.
 *
 * Both adapters run this same loop (the PostgreSQL one could have been an ordinary
 * projection), so the one contract suite describes exactly what production does with each.
 *
 * One leader across instances: the projection store's run lease under the name
 * ACTIVITY_FEED_NAME (a PostgreSQL session advisory lock that dies with its holder).
 */

/** Names the lease, the rebuild lease and the CLI's `projections rebuild activity`. */
export const ACTIVITY_FEED_NAME = 'activity';

export interface ActivityFeedDeps {
  readonly eventStore: EventStore;
  readonly feed: ActivityFeedStore;
  readonly leases: Pick<ProjectionStore, 'tryAcquireLease'>;
}

export interface ActivityFeedRunnerOptions {
  readonly instanceId: string;
  /** Events read per batch (default 500, at most 10,000). */
  readonly batchSize?: number;
  readonly logger?: ProjectionLogger;
  /** Pause when the log has nothing new (default 200 ms). */
  readonly idlePollMs?: number;
  /** Pause between tries for the lease while another instance leads (default 1.5 s). */
  readonly leaseRetryMs?: number;
}

const DEFAULT_BATCH_SIZE = 500;
const MAX_BATCH_SIZE = 10_000;
const DEFAULT_IDLE_POLL_MS = 200;
const DEFAULT_LEASE_RETRY_MS = 1_500;
/** Retries of a failing batch back off up to this, and go on until stop: an outage of the feed's store must not end the loop. */
const RETRY_BACKOFF = { minMs: 250, maxMs: 30_000 } as const;

export type BatchStep =
  | { readonly kind: 'idle' }
  | { readonly kind: 'applied'; readonly to: Position; readonly events: number; readonly entries: number }
  /** The checkpoint was not `from` any more (a switch, or another writer): re-read the state. */
  | { readonly kind: 'moved' };

/**
 * One batch into `generation`: read after `from`, insert the entries, then advance the
 * checkpoint. The unit both the live loop and a rebuild repeat.
 */
export async function applyNextBatch(deps: Pick<ActivityFeedDeps, 'eventStore' | 'feed'>, generation: number, from: Position, batchSize: number): Promise<BatchStep> {
  const events = await deps.eventStore.readAll({ after: from, maxCount: batchSize });
  const last = events.at(-1);
  if (!last) return { kind: 'idle' };
  const records = [];
  for (const event of events) {
    let record;
    try {
      record = activityRecordOf(event);
    } catch (error) {
      throw new Error(`activity feed: event ${event.id} at ${formatPosition(event.position)} (${event.type}): ${describeError(error)}`, { cause: error });
    }
    if (record) records.push(record);
  }
  if (records.length > 0) await deps.feed.insert(generation, records);
  const advanced = await deps.feed.advance(generation, from, last.position);
  return advanced ? { kind: 'applied', to: last.position, events: events.length, entries: records.length } : { kind: 'moved' };
}

export interface ActivityFeedRunnerStatus {
  readonly leading: boolean;
  /** The last batch's error while it keeps failing; null once a batch succeeds. */
  readonly failure: string | null;
}

export class ActivityFeedRunner {
  private readonly batchSize: number;
  private readonly logger: ProjectionLogger;
  private readonly idlePollMs: number;
  private readonly leaseRetryMs: number;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private leading = false;
  private failure: string | null = null;

  constructor(
    private readonly deps: ActivityFeedDeps,
    private readonly options: ActivityFeedRunnerOptions,
  ) {
    this.batchSize = Math.min(MAX_BATCH_SIZE, Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE)));
    this.logger = options.logger ?? silentLogger;
    this.idlePollMs = options.idlePollMs ?? DEFAULT_IDLE_POLL_MS;
    this.leaseRetryMs = options.leaseRetryMs ?? DEFAULT_LEASE_RETRY_MS;
  }

  status(): ActivityFeedRunnerStatus {
    return { leading: this.leading, failure: this.failure };
  }

  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = this.compete(controller.signal);
  }

  /** Resolves once the loop ended at a written checkpoint and the lease is released. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private compete(stopped: AbortSignal): Promise<void> {
    return leadWhileLeased(
      { leases: this.deps.leases, name: ACTIVITY_FEED_NAME, holder: this.options.instanceId, retryMs: this.leaseRetryMs, logger: this.logger, onLeading: (leading) => (this.leading = leading) },
      stopped,
      (signal) => this.lead(signal),
    );
  }

  private async lead(signal: AbortSignal): Promise<void> {
    let failures = 0;
    // After an applied batch the state is known (same generation, checkpoint moved to its
    // end): under load that saves a read per batch. A switch or another writer shows as
    // 'moved' at the next advance, and idle, moved or failed steps read the state again.
    let known: { live: number; checkpoint: Position } | undefined;
    while (!signal.aborted) {
      try {
        const state = known ?? (await this.deps.feed.state());
        known = undefined;
        const step = await applyNextBatch(this.deps, state.live, state.checkpoint, this.batchSize);
        if (step.kind === 'applied') known = { live: state.live, checkpoint: step.to };
        if (failures > 0) this.logger.info({ failures }, 'activity feed: batches succeed again');
        failures = 0;
        this.failure = null;
        if (step.kind === 'idle') await sleep(this.idlePollMs, signal);
      } catch (error) {
        failures++;
        this.failure = describeError(error);
        this.logger.error({ err: this.failure, failures }, 'activity feed: batch failed; retrying from the checkpoint');
        await sleep(backoff(failures, RETRY_BACKOFF), signal);
      }
    }
  }
}

export type ActivityRebuildSummary = { readonly generation: number; readonly events: number; readonly entries: number; readonly checkpoint: string };

/** Bounds a rebuild's catch-up rounds against a log that grows as fast as it is read. */
const MAX_REBUILD_BATCHES = 10_000_000;

/**
 * `ledger projections rebuild activity`: replays the whole log into a fresh generation while
 * the live one keeps serving, then switches. The live runner's next `advance` on the retired
 * generation fails, so it re-reads the state and carries on from the new generation's
 * checkpoint; events appended after the rebuild's last batch are thus written by the runner.
 * Undefined when another rebuild holds the rebuild lease.
 */
export async function rebuildActivityFeed(deps: ActivityFeedDeps, options: { readonly holder: string; readonly batchSize?: number; readonly onProgress?: (events: number, at: Position) => void }): Promise<ActivityRebuildSummary | undefined> {
  const lease = await deps.leases.tryAcquireLease(ACTIVITY_FEED_NAME, 'rebuild', options.holder);
  if (!lease) return undefined;
  try {
    const batchSize = Math.min(MAX_BATCH_SIZE, Math.max(1, options.batchSize ?? 2_000));
    const generation = await deps.feed.createGeneration();
    let events = 0;
    let entries = 0;
    for (let batches = 0; batches < MAX_REBUILD_BATCHES; batches++) {
      if (lease.lost.aborted) throw new Error('activity feed rebuild: lost the rebuild lease');
      const from = await deps.feed.checkpointOf(generation);
      if (!from) throw new Error(`activity feed rebuild: generation ${generation} disappeared`);
      const step = await applyNextBatch(deps, generation, from, batchSize);
      if (step.kind === 'idle') {
        await deps.feed.switchLive(generation);
        return { generation, events, entries, checkpoint: formatPosition(from) };
      }
      if (step.kind === 'moved') throw new Error(`activity feed rebuild: generation ${generation} was written by someone else`);
      events += step.events;
      entries += step.entries;
      options.onProgress?.(events, step.to);
    }
    throw new Error(`activity feed rebuild: still behind after ${MAX_REBUILD_BATCHES} batches`);
  } finally {
    await lease.release();
  }
}
