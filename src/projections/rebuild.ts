import type { EventStore, RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import { START, formatPosition, isAfter } from '../application/ports/position.js';
import type { ProjectionLease, ProjectionStore, SchemaDifferences } from '../application/ports/projection-store.js';
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
    const [result] = await this.rebuildMany([name], onProgress, signal);
    return result ?? err({ code: 'unknown_projection', name });
  }

  /**
   * Rebuilds several projections in one pass over the log: each page is read once (the
   * next one already on its way) and handed to every projection, each in its own
   * transaction on its own scratch schema, so they share the reading and nothing else.
   * Each keeps its own lease, checkpoint, switch and outcome: one that fails or is
   * already rebuilding elsewhere does not hold the others back. Results are in `names` order.
   */
  async rebuildMany(names: readonly string[], onProgress?: ProgressListener, signal?: AbortSignal): Promise<Result<RebuildSummary, RebuildError>[]> {
    const started = Date.now();
    const known: Projection[] = [];
    for (const name of names) {
      const projection = this.deps.projections.find((p) => p.name === name);
      if (projection && !known.includes(projection)) known.push(projection);
    }
    const replayed = await this.replay(known, 'switch', onProgress, signal);
    return names.map((name) => {
      const index = known.findIndex((p) => p.name === name);
      const outcome = replayed[index];
      if (index < 0 || !outcome) return err({ code: 'unknown_projection', name });
      if (!outcome.ok) return outcome;
      const projection = known[index] as Projection;
      return ok({
        name,
        version: projection.version,
        checkpoint: formatPosition(outcome.value.checkpoint),
        processed: outcome.value.processed,
        durationMs: Date.now() - started,
      });
    });
  }

  /** Replays `name` into scratch tables, compares them with the live ones, drops them. */
  async audit(name: string, onProgress?: ProgressListener, signal?: AbortSignal): Promise<Result<AuditReport, RebuildError>> {
    const projection = this.deps.projections.find((p) => p.name === name);
    if (!projection) return err({ code: 'unknown_projection', name });
    const started = Date.now();
    const [replayed] = await this.replay([projection], 'compare', onProgress, signal);
    if (!replayed) return err({ code: 'unknown_projection', name });
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
    const [replayed] = await this.replay([projection], 'switch', onProgress, signal);
    if (!replayed) return err({ code: 'unknown_projection', name: projection.name });
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
    projections: readonly Projection[],
    mode: Mode,
    onProgress: ProgressListener | undefined,
    callerSignal: AbortSignal | undefined,
  ): Promise<Result<Replayed, RebuildError>[]> {
    const jobs: Job[] = [];
    try {
      for (const projection of projections) jobs.push(await this.startJob(projection, mode, onProgress, callerSignal));
      await this.replayShared(jobs.filter((j) => j.outcome === undefined));
      await settleAll(jobs.filter((j) => j.outcome === undefined).map((job) => this.finish(job, mode)));
      return jobs.map((j) => j.outcome ?? err({ code: 'aborted', name: j.projection.name }));
    } finally {
      await Promise.all(jobs.map((job) => this.cleanUp(job)));
    }
  }

  /** Takes the rebuild lease and prepares the scratch schema; a job that cannot start has its outcome already. */
  private async startJob(projection: Projection, mode: Mode, onProgress: ProgressListener | undefined, callerSignal: AbortSignal | undefined): Promise<Job> {
    const { store } = this.deps;
    const name = projection.name;
    const schema = mode === 'switch' ? rebuildSchema(name) : auditSchema(name);
    const job: Job = { projection, schema, signal: callerSignal ?? new AbortController().signal, lease: undefined, replay: undefined, progress: undefined, outcome: undefined, keepSchema: false, head: undefined };
    const lease = await store.tryAcquireLease(name, 'rebuild', this.holder);
    if (!lease) {
      job.outcome = err({ code: 'rebuild_in_progress', name });
      return job;
    }
    job.lease = lease;
    job.signal = callerSignal ? AbortSignal.any([callerSignal, lease.lost]) : lease.lost;
    const record = await store.register(projection);
    if (record.version > projection.version) {
      job.outcome = err({ code: 'newer_version_stored', name, stored: record.version, running: projection.version });
      return job;
    }
    // Query indexes, if the projection lets them wait, come after the replay (finish).
    await store.resetSchema(schema, projection.deferredIndexes?.tablesSql ?? projection.schemaSql);
    job.replay = new Replay(projection, this.deps.eventStore, this.batchSize);
    job.progress = new ProgressPublisher(name, store, onProgress, this.progressIntervalMs, this.logger);
    return job;
  }

  /**
   * Phase 1, outside any lock: read up to the head in pages of batchSize, re-reading the
   * head when reached (at most MAX_HEAD_REFRESHES times, or a steady trickle of writes
   * would keep it chasing), so that the locked phase only has the last few events left.
   * The next page is read while the current one is applied.
   */
  private async replayShared(jobs: Job[]): Promise<void> {
    const { eventStore } = this.deps;
    let active = jobs;
    let head = await eventStore.headPosition();
    for (const job of active) {
      job.head = head;
      job.progress?.report('replaying', replayOf(job), head, true);
    }
    let at: Position | undefined;
    let headRefreshes = 0;
    let next: Promise<readonly RecordedEvent[]> | undefined = head !== undefined && isAfter(head, START) ? prefetch(eventStore, at, this.batchSize) : undefined;
    while (next && active.length > 0) {
      for (const job of active) if (job.signal.aborted) job.outcome = err({ code: 'aborted', name: job.projection.name });
      active = active.filter((j) => j.outcome === undefined);
      if (active.length === 0) break;
      const events = await next;
      next = undefined;
      const last = events.at(-1);
      if (!last) break;
      at = last.position;
      if (head !== undefined && !isAfter(head, at) && headRefreshes < MAX_HEAD_REFRESHES) {
        headRefreshes += 1;
        head = await eventStore.headPosition();
      }
      if (head !== undefined && isAfter(head, at)) next = prefetch(eventStore, at, this.batchSize);
      try {
        await settleAll(active.map((job) => this.applyPage(job, events, head)));
      } catch (error) {
        // Not left running unobserved: its rejection would be unhandled.
        await next?.catch(() => undefined);
        throw error;
      }
      active = active.filter((j) => j.outcome === undefined);
    }
    await next?.catch(() => undefined);
    for (const job of active) if (job.signal.aborted) job.outcome = err({ code: 'aborted', name: job.projection.name });
  }

  private async applyPage(job: Job, events: readonly RecordedEvent[], head: Position | undefined): Promise<void> {
    const replay = replayOf(job);
    const applied = await this.deps.store.applyInSchema(job.schema, (sql) => replay.apply(sql, events));
    if (!applied.ok) {
      job.outcome = err(handlerFailed(job.projection.name, applied.error));
      return;
    }
    job.head = head;
    job.progress?.report('replaying', replay, head, false);
  }

  /** Phase 2, in the store's transaction that holds the live checkpoint (after the deferred indexes, outside it). */
  private async finish(job: Job, mode: Mode): Promise<void> {
    const replay = replayOf(job);
    const name = job.projection.name;
    const indexSql = job.projection.deferredIndexes?.indexSql;
    if (indexSql) {
      await this.deps.store.applyInSchema(job.schema, async (sql) => {
        await sql.query(indexSql);
        return ok(undefined);
      });
    }
    job.progress?.report('finishing', replay, job.head, true);
    const finished = await this.deps.store.finishRebuild({ spec: job.projection, schema: job.schema, mode }, (sql, live) => replay.catchUp(sql, live));
    if (finished.kind === 'rejected') {
      job.outcome = err(handlerFailed(name, finished.reason));
    } else if (finished.kind === 'compared') {
      job.outcome = ok({ checkpoint: finished.checkpoint, processed: replay.processed, differences: finished.differences });
    } else {
      job.keepSchema = true;
      this.logger.info({ projection: name, checkpoint: formatPosition(finished.checkpoint), processed: replay.processed }, 'projection rebuilt and switched');
      job.outcome = ok({ checkpoint: finished.checkpoint, processed: replay.processed, differences: { count: 0, sample: [] } });
    }
  }

  private async cleanUp(job: Job): Promise<void> {
    if (!job.lease) return;
    const { store } = this.deps;
    const name = job.projection.name;
    // The switch renamed the scratch schema into place; anything else leaves debris.
    if (!job.keepSchema) await store.dropSchema(job.schema).catch((error: unknown) => this.logger.warn({ projection: name, schema: job.schema, error }, 'could not drop scratch schema'));
    await job.progress?.finish();
    await store.recordRebuildProgress(name, null).catch(() => undefined);
    await job.lease.release().catch(() => undefined);
  }
}

interface Replayed {
  readonly checkpoint: Position;
  readonly processed: number;
  readonly differences: SchemaDifferences;
}

/** One projection's part in a (shared) replay. */
interface Job {
  readonly projection: Projection;
  readonly schema: string;
  signal: AbortSignal;
  lease: ProjectionLease | undefined;
  replay: Replay | undefined;
  progress: ProgressPublisher | undefined;
  /** Set once the job is over, one way or the other. */
  outcome: Result<Replayed, RebuildError> | undefined;
  keepSchema: boolean;
  /** The head as phase 1 last saw it (for progress reports). */
  head: Position | undefined;
}

function replayOf(job: Job): Replay {
  if (!job.replay) throw new Error(`rebuild of ${job.projection.name} has not started`);
  return job.replay;
}

/** A page read ahead; its failure surfaces when it is awaited. */
function prefetch(eventStore: EventStore, after: Position | undefined, maxCount: number): Promise<readonly RecordedEvent[]> {
  const page = eventStore.readAll({ after, maxCount });
  page.catch(() => undefined);
  return page;
}

/** Waits for every one, then throws the first failure: no transaction is left running behind a throw. */
async function settleAll(work: readonly Promise<void>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
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
    const applied = await applyEvents(this.projection, this.handled, sql, events, 'discard');
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
