import type { EventStore, RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import { START, formatPosition, isAfter } from '../application/ports/position.js';
import type { ProjectionStore, SchemaDifferences } from '../application/ports/projection-store.js';
import type { SqlExecutor } from '../application/ports/sql.js';
import type { Result } from '../domain/result.js';
import { err, ok } from '../domain/result.js';
import type { HandlerFailure } from './apply-events.js';
import { applyEvents, auditSchema, rebuildSchema } from './apply-events.js';
import type { ProjectionLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { Projection } from './projection.js';

export interface RebuildProgressReport {
  readonly name: string;
  /** 'replaying' while the live schema serves; 'finishing' while the live runner waits. */
  readonly phase: 'replaying' | 'finishing';
  /** Events read so far (handled or not). */
  readonly processed: number;
  readonly position: string | null;
  readonly head: string | null;
}

export type RebuildError =
  | { readonly code: 'unknown_projection'; readonly name: string }
  | { readonly code: 'rebuild_in_progress'; readonly name: string }
  /** The store holds rows of a newer version than this code: a downgrade would corrupt them. */
  | { readonly code: 'newer_version_stored'; readonly name: string; readonly stored: number; readonly running: number }
  | { readonly code: 'handler_failed'; readonly name: string; readonly message: string; readonly position: string; readonly eventId: string }
  | { readonly code: 'aborted'; readonly name: string };

export interface RebuildSummary {
  readonly name: string;
  readonly version: number;
  /** The live checkpoint right after the switch. */
  readonly checkpoint: string;
  readonly processed: number;
  readonly durationMs: number;
}

export interface AuditReport {
  readonly name: string;
  /** Both sides were compared at this position. */
  readonly checkpoint: string;
  readonly processed: number;
  readonly matches: boolean;
  readonly differences: SchemaDifferences;
  readonly durationMs: number;
}

export interface RebuildOptions {
  readonly batchSize?: number;
  /** Names the rebuild lease's holder in status output. */
  readonly instanceId?: string;
  readonly logger?: ProjectionLogger;
  /** How often progress is published to the store for `status` readers elsewhere. */
  readonly progressIntervalMs?: number;
}

export type ProgressListener = (progress: RebuildProgressReport) => void;

type Mode = 'switch' | 'compare';

/**
 * How often phase 1 of a rebuild re-reads the head after reaching it. Phase 2 applies
 * whatever came after under the lock, so more refreshes only shorten that phase.
 */
const MAX_HEAD_REFRESHES = 3;
/**
 * Replays a projection from the start of the log into a scratch schema while the live one
 * keeps serving, then lets the store finish in one transaction that holds the live
 * checkpoint: catch up to it, then switch schemas (rebuild) or compare rows (audit).
 */
export class ProjectionRebuilder {
  private readonly batchSize: number;
  private readonly holder: string;
  private readonly logger: ProjectionLogger;
  private readonly progressIntervalMs: number;

  constructor(
    private readonly deps: { readonly eventStore: EventStore; readonly store: ProjectionStore; readonly projections: readonly Projection[] },
    options: RebuildOptions = {},
  ) {
    this.batchSize = clamp(options.batchSize ?? 500, 1, 10_000);
    this.holder = options.instanceId ?? `rebuild-${crypto.randomUUID().slice(0, 8)}`;
    this.logger = options.logger ?? silentLogger;
    this.progressIntervalMs = options.progressIntervalMs ?? 1_000;
  }

  /** Replays `name` into fresh tables and switches them in. */
  async rebuild(name: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<Result<RebuildSummary, RebuildError>> {
    const projection = this.deps.projections.find((p) => p.name === name);
    if (!projection) return err({ code: 'unknown_projection', name });
    return this.rebuildProjection(projection, onProgress, signal);
  }

  /** Replays `name` into scratch tables, compares them with the live ones, drops them. */
  async audit(name: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<Result<AuditReport, RebuildError>> {
    const projection = this.deps.projections.find((p) => p.name === name);
    if (!projection) return err({ code: 'unknown_projection', name });
    const started = Date.now();
    const replayed = await this.replay(projection, 'compare', onProgress, signal);
    if (!replayed.ok) return replayed;
    const { differences, checkpoint, processed } = replayed.value;
    return ok({
      name,
      checkpoint: formatPosition(checkpoint),
      processed,
      matches: differences.count === 0,
      differences,
      durationMs: Date.now() - started,
    });
  }

  /** The runner uses this when its code is a newer version than the stored rows. */
  async rebuildProjection(projection: Projection, onProgress?: ProgressListener, signal?: AbortSignal): Promise<Result<RebuildSummary, RebuildError>> {
    const started = Date.now();
    const replayed = await this.replay(projection, 'switch', onProgress, signal);
    if (!replayed.ok) return replayed;
    return ok({
      name: projection.name,
      version: projection.version,
      checkpoint: formatPosition(replayed.value.checkpoint),
      processed: replayed.value.processed,
      durationMs: Date.now() - started,
    });
  }

  private async replay(
    projection: Projection,
    mode: Mode,
    onProgress: ProgressListener | undefined,
    callerSignal: AbortSignal | undefined,
  ): Promise<Result<{ checkpoint: Position; processed: number; differences: SchemaDifferences }, RebuildError>> {
    const { store } = this.deps;
    const name = projection.name;
    const lease = await store.tryAcquireLease(name, 'rebuild', this.holder);
    if (!lease) return err({ code: 'rebuild_in_progress', name });
    const signal = callerSignal ? AbortSignal.any([callerSignal, lease.lost]) : lease.lost;
    const schema = mode === 'switch' ? rebuildSchema(name) : auditSchema(name);
    let keepSchema = false;
    let progress: ProgressPublisher | undefined;
    try {
      const record = await store.register(projection);
      if (record.version > projection.version) {
        return err({ code: 'newer_version_stored', name, stored: record.version, running: projection.version });
      }
      await store.resetSchema(schema, projection.schemaSql);
      const replay = new Replay(projection, this.deps.eventStore, this.batchSize);
      progress = new ProgressPublisher(name, store, onProgress, this.progressIntervalMs, this.logger);

      let head = await this.deps.eventStore.headPosition();
      progress.report('replaying', replay, head, true);
      // Phase 1, outside any lock: read up to the head in pages of batchSize, re-reading the
      // head when reached (at most MAX_HEAD_REFRESHES times, or a steady trickle of writes
      // would keep it chasing), so that the locked phase only has the last few events left.
      let headRefreshes = 0;
      while (head !== undefined && isAfter(head, replay.position)) {
        if (signal.aborted) return err({ code: 'aborted', name });
        const events = await this.deps.eventStore.readAll({ after: replay.at, maxCount: this.batchSize });
        if (events.length === 0) break;
        const applied = await store.applyInSchema(schema, (sql) => replay.apply(sql, events));
        if (!applied.ok) return err(handlerFailed(name, applied.error));
        if (!isAfter(head, replay.position) && headRefreshes < MAX_HEAD_REFRESHES) {
          headRefreshes += 1;
          head = await this.deps.eventStore.headPosition();
        }
        progress.report('replaying', replay, head, false);
      }
      if (signal.aborted) return err({ code: 'aborted', name });

      // Phase 2, in the store's transaction that holds the live checkpoint.
      progress.report('finishing', replay, head, true);
      const finished = await store.finishRebuild({ spec: projection, schema, mode }, (sql, live) => replay.catchUp(sql, live));
      if (finished.kind === 'rejected') return err(handlerFailed(name, finished.reason));
      if (finished.kind === 'compared') return ok({ checkpoint: finished.checkpoint, processed: replay.processed, differences: finished.differences });
      keepSchema = true;
      this.logger.info({ projection: name, checkpoint: formatPosition(finished.checkpoint), processed: replay.processed }, 'projection rebuilt and switched');
      return ok({ checkpoint: finished.checkpoint, processed: replay.processed, differences: { count: 0, sample: [] } });
    } finally {
      // The switch renamed the scratch schema into place; anything else leaves debris.
      if (!keepSchema) await store.dropSchema(schema).catch((error: unknown) => this.logger.warn({ projection: name, schema, error }, 'could not drop scratch schema'));
      await progress?.finish();
      await store.recordRebuildProgress(name, null).catch(() => undefined);
      await lease.release().catch(() => undefined);
    }
  }
}

/** The replay cursor: where the scratch schema is, and how to move it on. */
class Replay {
  at: Position | undefined = undefined;
  processed = 0;
  private readonly handled: ReadonlySet<string>;

  constructor(
    private readonly projection: Projection,
    private readonly eventStore: EventStore,
    private readonly batchSize: number,
  ) {
    this.handled = new Set(projection.eventTypes);
  }

  get position(): Position {
    return this.at ?? START;
  }

  async apply(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<Result<void, HandlerFailure>> {
    const applied = await applyEvents(this.projection, this.handled, sql, events);
    if (!applied.ok) return applied;
    this.at = (events[events.length - 1] as RecordedEvent).position;
    this.processed += events.length;
    return ok(undefined);
  }

  /**
   * Inside the locked transaction: apply what lies between here and the live checkpoint,
   * in pages of batchSize. The checkpoint cannot move meanwhile, so the loop ends.
   */
  async catchUp(sql: SqlExecutor, live: Position): Promise<Result<Position, HandlerFailure>> {
    while (isAfter(live, this.position)) {
      const events = await this.eventStore.readAll({ after: this.at, maxCount: this.batchSize });
      const upToLive = events.filter((e) => !isAfter(e.position, live));
      if (upToLive.length === 0) break;
      const applied = await this.apply(sql, upToLive);
      if (!applied.ok) return applied;
      if (upToLive.length < events.length) break;
    }
    // Switching now would serve a read model that lacks events the live one had.
    if (isAfter(live, this.position)) {
      throw new Error(`rebuild of ${this.projection.name} reached ${formatPosition(this.position)} but the live checkpoint is ${formatPosition(live)}`);
    }
    return ok(this.position);
  }
}

/** Calls the listener every batch; writes to the store at most every interval. */
class ProgressPublisher {
  private lastPublished = 0;
  private readonly startedAt = new Date();
  private publishing: Promise<void> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly store: ProjectionStore,
    private readonly listener: ProgressListener | undefined,
    private readonly intervalMs: number,
    private readonly logger: ProjectionLogger,
  ) {}

  report(phase: RebuildProgressReport['phase'], replay: Replay, head: Position | undefined, force: boolean): void {
    const report: RebuildProgressReport = {
      name: this.name,
      phase,
      processed: replay.processed,
      position: replay.at ? formatPosition(replay.at) : null,
      head: head ? formatPosition(head) : null,
    };
    try {
      this.listener?.(report);
    } catch (error) {
      this.logger.warn({ projection: this.name, error }, 'rebuild progress listener threw');
    }
    const now = Date.now();
    if (!force && now - this.lastPublished < this.intervalMs) return;
    this.lastPublished = now;
    const progress = { processed: replay.processed, position: replay.position, head, startedAt: this.startedAt };
    // Progress is only informative; a failed write must not fail the rebuild.
    this.publishing = this.publishing
      .then(() => this.store.recordRebuildProgress(this.name, progress))
      .catch((error: unknown) => this.logger.warn({ projection: this.name, error }, 'could not record rebuild progress'));
  }

  finish(): Promise<void> {
    return this.publishing;
  }
}

function handlerFailed(name: string, failure: HandlerFailure): RebuildError {
  return { code: 'handler_failed', name, message: failure.message, position: formatPosition(failure.position), eventId: failure.eventId };
}

const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.floor(n)));
