import type { EventStore, RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import { START, comparePositions, formatPosition, isAfter, parsePosition } from '../application/ports/position.js';
import type { BatchOutcome, ProjectionLease, ProjectionRecord, ProjectionStore } from '../application/ports/projection-store.js';
import { WakeSignal, backoff } from '../application/support/timing.js';
import type { HandlerFailure } from './apply-events.js';
import { applyEvents } from './apply-events.js';
import type { LiveGroup } from './live-group.js';
import type { ProjectionLogger } from './logger.js';
import { describeError } from './logger.js';
import type { ProjectionObserver } from './observer.js';
import type { Projection } from './projection.js';
import { projectionSchema } from './projection.js';
import type { ProjectionRebuilder } from './rebuild.js';

/** What this process is doing with one projection (the cross-instance view is in status.ts). */
export type WorkerState =
  | 'idle'
  /** Another instance holds the lease; this one retries periodically. */
  | 'follower'
  /** Leading, and the last batch was full: probably behind. */
  | 'catching_up'
  /** Leading, and the last batch was not full (or none came yet). */
  | 'running'
  /** A handler threw; holding the lease, waiting for a restart or a rebuild. */
  | 'failed'
  /** Leading, replaying because this code is a newer version than the stored rows. */
  | 'rebuilding'
  /** The stored rows are a newer version than this code; left to newer instances. */
  | 'outdated'
  /** An infrastructure error; backing off before trying again. */
  | 'retrying'
  | 'stopped';

export interface WorkerSnapshot {
  readonly name: string;
  readonly state: WorkerState;
  readonly leader: boolean;
  readonly checkpoint: string | null;
  readonly lastError: string | null;
}

export interface WorkerSettings {
  readonly holder: string;
  readonly batchSize: number;
  readonly leaseRetryMs: number;
  readonly maxBackoffMs: number;
  readonly logger: ProjectionLogger;
  readonly observer: ProjectionObserver;
}

interface WorkerDeps {
  readonly eventStore: EventStore;
  readonly store: ProjectionStore;
  readonly rebuilder: ProjectionRebuilder;
  /** Where caught-up projections follow the log together; without it each follows alone. */
  readonly group?: LiveGroup;
}

/**
 * Runs one projection in this process: competes for its lease, and while holding it feeds
 * it batches from the event store, each committed together with its checkpoint.
 */
export class ProjectionWorker {
  private state: WorkerState = 'idle';
  private leader = false;
  private checkpoint: Position | undefined;
  private lastError: string | null = null;
  /** Set when this leadership term's automatic rebuild failed: do not retry it until restarted. */
  private rebuildFailed = false;
  /** The last batch followed alone reached the head: the next follow joins the group. */
  private caughtUp = false;
  private readonly wakeUp = new WakeSignal();
  private readonly handled: ReadonlySet<string>;
  private readonly schema: string;

  constructor(
    private readonly projection: Projection,
    private readonly deps: WorkerDeps,
    private readonly settings: WorkerSettings,
  ) {
    this.handled = new Set(projection.eventTypes);
    this.schema = projectionSchema(projection.name);
  }

  get name(): string {
    return this.projection.name;
  }

  snapshot(): WorkerSnapshot {
    return {
      name: this.name,
      state: this.state,
      leader: this.leader,
      checkpoint: this.checkpoint ? formatPosition(this.checkpoint) : null,
      lastError: this.lastError,
    };
  }

  /** Ends a pause early: after a restart, or to notice a stop. */
  wake(): void {
    this.wakeUp.wake();
  }

  /** The failure was cleared: a failed automatic rebuild may be tried again. */
  restarted(): void {
    this.rebuildFailed = false;
    this.wake();
  }

  /** Runs until `stop` aborts. Never rejects. */
  async run(stop: AbortSignal): Promise<void> {
    let consecutiveErrors = 0;
    while (!stop.aborted) {
      try {
        const lease = await this.deps.store.tryAcquireLease(this.name, 'run', this.settings.holder);
        if (!lease) {
          this.state = 'follower';
          await this.wakeUp.sleep(this.settings.leaseRetryMs, stop);
          continue;
        }
        let pause = this.settings.leaseRetryMs;
        try {
          pause = await this.lead(lease, stop);
          consecutiveErrors = 0;
        } finally {
          this.leader = false;
          this.logLeadershipEnd(lease, stop);
          await lease.release().catch((error: unknown) => this.settings.logger.warn({ projection: this.name, error: describeError(error) }, 'could not release projection lease'));
        }
        await this.wakeUp.sleep(pause, stop);
      } catch (error) {
        consecutiveErrors += 1;
        this.state = 'retrying';
        this.lastError = describeError(error);
        const retryInMs = backoff(consecutiveErrors, { minMs: this.settings.leaseRetryMs, maxMs: this.settings.maxBackoffMs });
        // The first failure and then every tenth: an outage is a few lines, not one per retry.
        if (consecutiveErrors === 1 || consecutiveErrors % 10 === 0) {
          this.settings.logger.warn({ projection: this.name, error: this.lastError, consecutiveErrors, retryInMs }, 'projection runner error; retrying');
        }
        await this.wakeUp.sleep(retryInMs, stop);
      }
    }
    this.state = 'stopped';
  }

  /** Leads until stopped or the lease is lost; returns how long to pause before competing again. */
  private async lead(lease: ProjectionLease, stop: AbortSignal): Promise<number> {
    const signal = AbortSignal.any([stop, lease.lost]);
    this.leader = true;
    this.rebuildFailed = false;
    // Registering runs the projection's DDL: once per leadership term, then plain reads.
    let record = await this.deps.store.register(this.projection);
    this.settings.logger.info(
      { projection: this.name, version: this.projection.version, holder: this.settings.holder, checkpoint: formatPosition(record.checkpoint) },
      'projection leadership gained; projection started from its checkpoint',
    );
    while (!signal.aborted) {
      this.checkpoint = record.checkpoint;
      if (record.version > this.projection.version) {
        this.state = 'outdated';
        this.settings.logger.warn(
          { projection: this.name, stored: record.version, running: this.projection.version },
          'stored read model is a newer version than this code; leaving it to newer instances',
        );
        // Long pause: an old instance must not keep taking the lease from new ones.
        return this.settings.leaseRetryMs * 10;
      }
      if (record.failure && (record.version === this.projection.version || this.rebuildFailed)) {
        // Keep the lease (another instance would only fail the same way) and look for a
        // restart or a rebuild, which clear the failure, from this or any other instance.
        if (this.state !== 'failed') {
          // Once per failure in this term: a leader that takes over a failed projection says so.
          this.settings.logger.error(
            { projection: this.name, error: record.failure.message, position: formatPosition(record.failure.position), eventId: record.failure.eventId },
            'projection is failed; waiting for a restart or a rebuild',
          );
        }
        this.state = 'failed';
        this.lastError = record.failure.message;
        await this.wakeUp.sleep(this.settings.leaseRetryMs, signal);
      } else if (record.version < this.projection.version) {
        await this.rebuildToCurrentVersion(record, signal);
      } else {
        await this.follow(record.checkpoint, signal);
      }
      if (signal.aborted) break;
      record = (await this.deps.store.read([this.name]))[0] ?? (await this.deps.store.register(this.projection));
    }
    return this.settings.leaseRetryMs;
  }

  /** Leadership ends on a stop (expected), or because the lease was lost (another instance may take over). */
  private logLeadershipEnd(lease: ProjectionLease, stop: AbortSignal): void {
    const details = { projection: this.name, holder: this.settings.holder, checkpoint: this.checkpoint ? formatPosition(this.checkpoint) : null };
    if (lease.lost.aborted) this.settings.logger.warn(details, 'projection leadership lost; another instance may take over');
    else this.settings.logger.info({ ...details, reason: stop.aborted ? 'stopping' : 'stepping back' }, 'projection leadership released');
  }

  private async rebuildToCurrentVersion(record: ProjectionRecord, signal: AbortSignal): Promise<void> {
    this.state = 'rebuilding';
    this.settings.logger.info({ projection: this.name, from: record.version, to: this.projection.version }, 'rebuilding projection for a new version');
    const rebuilt = await this.deps.rebuilder.rebuildProjection(this.projection, undefined, signal);
    if (rebuilt.ok) return;
    const error = rebuilt.error;
    switch (error.code) {
      case 'aborted':
      case 'newer_version_stored':
      case 'unknown_projection':
        return;
      case 'rebuild_in_progress':
        // Someone (an operator's CLI) is rebuilding it right now; its switch will update the version.
        await this.wakeUp.sleep(this.settings.leaseRetryMs, signal);
        return;
      case 'handler_failed': {
        this.rebuildFailed = true;
        const message = `rebuild to version ${this.projection.version} failed: ${error.message}`;
        this.lastError = message;
        const position = parsePosition(error.position) ?? START;
        await this.deps.store.recordFailure(this.name, { message, position, eventId: error.eventId });
        this.settings.logger.error({ projection: this.name, error: message, position: error.position, eventId: error.eventId }, 'projection rebuild failed');
        return;
      }
    }
  }

  /**
   * Follows the log from `from` until stopped, outpaced or failed: in the group when this
   * projection is at the head, else alone until it gets there (then returns to join).
   */
  private async follow(from: Position, signal: AbortSignal): Promise<void> {
    const { eventStore, store, group } = this.deps;
    this.state = 'running';
    if (group && (this.caughtUp || !isAfter((await eventStore.headPosition()) ?? START, from))) {
      this.caughtUp = false;
      await group.follow(
        {
          projection: this.projection,
          handled: this.handled,
          schema: this.schema,
          signal,
          batchStarted: () => this.settings.observer.batchStarted(this.name),
          settle: (outcome, events) => this.settle(outcome, events),
        },
        from,
      );
      return;
    }
    let checkpoint = from;
    const batches = eventStore.subscribeToAll({
      after: comparePositions(from, START) === 0 ? undefined : from,
      batchSize: this.settings.batchSize,
      signal,
    });
    try {
      for await (const batch of batches) {
        const last = batch[batch.length - 1];
        if (!last) continue;
        const committed = this.settings.observer.batchStarted(this.name);
        const outcome = await store.commitBatch({ name: this.name, version: this.projection.version, schema: this.schema, from: checkpoint, to: last.position }, (sql) =>
          applyEvents(this.projection, this.handled, sql, batch),
        );
        if (outcome.kind === 'committed') {
          committed(batch.length);
          checkpoint = outcome.checkpoint;
        }
        if (!(await this.settle(outcome, batch))) return;
        if (signal.aborted) return;
        // At the head (a short batch, or a full one that happens to end there): join the group.
        if (group && (batch.length < this.settings.batchSize || !isAfter((await eventStore.headPosition()) ?? START, last.position))) {
          this.caughtUp = true;
          return;
        }
      }
    } catch (error) {
      // Aborting the subscription may surface as an AbortError: that is a normal stop.
      if (signal.aborted) return;
      throw error;
    }
  }

  /** What a batch's outcome means for this worker: true to go on following, false to re-read the record. */
  private async settle(outcome: BatchOutcome<HandlerFailure>, batch: readonly RecordedEvent[]): Promise<boolean> {
    switch (outcome.kind) {
      case 'committed':
        this.checkpoint = outcome.checkpoint;
        this.lastError = null;
        this.state = batch.length >= this.settings.batchSize ? 'catching_up' : 'running';
        return true;
      case 'checkpoint_moved':
        // Another runner wrote while we believed we held the lease, or a rebuild switched in
        // rows of another version: start over from the stored record.
        this.settings.logger.warn(
          { projection: this.name, expected: this.checkpoint ? formatPosition(this.checkpoint) : null, actual: formatPosition(outcome.checkpoint) },
          'checkpoint moved under this runner; resubscribing from the stored checkpoint',
        );
        return false;
      case 'rejected': {
        const failure = outcome.reason;
        // A lost connection or a deadlock inside the handler's SQL is ours, not the handler's.
        if (this.deps.store.isTransientError(failure.error)) throw failure.error;
        this.state = 'failed';
        this.lastError = failure.message;
        await this.deps.store.recordFailure(this.name, { message: failure.message, position: failure.position, eventId: failure.eventId });
        this.settings.logger.error(
          { projection: this.name, error: failure.message, position: formatPosition(failure.position), eventId: failure.eventId, event: describeEvent(batch, failure.eventId) },
          'projection handler failed; projection stopped at this event',
        );
        return false;
      }
    }
  }
}

function describeEvent(batch: readonly RecordedEvent[], id: string): { type: string; streamId: string; revision: string } | undefined {
  const event = batch.find((e) => e.id === id);
  return event ? { type: event.type, streamId: event.streamId, revision: event.revision.toString() } : undefined;
}
