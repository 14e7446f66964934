import type { Result } from '../../domain/result.js';
import type { Position } from './position.js';
import type { SqlExecutor } from './sql.js';

/**
 * What the projection runner persists: one record per projection (version, checkpoint,
 * failure), a lease per projection, and the batch transaction that moves rows, checkpoint
 * and realtime changes together. The PostgreSQL adapter lives in
 * src/infrastructure/postgres/projections.
 */

/** The parts of a projection the store needs; a `Projection` satisfies it. */
export interface ProjectionSpec {
  readonly name: string;
  readonly version: number;
  /** Idempotent, unqualified DDL, run with search_path set to the target schema. */
  readonly schemaSql: string;
}

export interface ProjectionFailure {
  readonly message: string;
  /** Position and id of the event whose handler threw. */
  readonly position: Position;
  readonly eventId: string;
}

export interface RebuildProgress {
  readonly processed: number;
  readonly position: Position;
  readonly head: Position | undefined;
  readonly startedAt: Date;
}

export interface ProjectionRecord {
  readonly name: string;
  /** Version whose rows the live schema holds. */
  readonly version: number;
  /** Every event at or before this position is in the live schema (or was skipped as not handled). */
  readonly checkpoint: Position;
  readonly failure: (ProjectionFailure & { readonly at: Date }) | null;
  /** Holder of the run lease right now (null when nobody holds it). */
  readonly leader: string | null;
  /** Progress of a rebuild running right now, anywhere; null when none is. */
  readonly rebuild: RebuildProgress | null;
  readonly updatedAt: Date;
}

/** A realtime change as stored: the projection's change plus the event position that made it. */
export interface PositionedChange {
  readonly topics: readonly string[];
  readonly type: string;
  readonly data: unknown;
  readonly position: Position;
}

/** One projection's batch: which records it moves, from where to where, in which schema. */
export interface BatchSpec {
  readonly name: string;
  readonly version: number;
  readonly schema: string;
  readonly from: Position;
  readonly to: Position;
}

/** One projection's share of a shared transaction (commitBatches). */
export interface BatchPart<F> {
  readonly batch: BatchSpec;
  readonly work: TransactionWork<readonly PositionedChange[], F>;
}

/** Work done inside a store transaction: Ok to commit, Err to roll back and report. */
export type TransactionWork<T, F> = (sql: SqlExecutor) => Promise<Result<T, F>>;

export type BatchOutcome<F> =
  | { readonly kind: 'committed'; readonly checkpoint: Position }
  /** The checkpoint was no longer `from` (another runner got there first): nothing was written. */
  | { readonly kind: 'checkpoint_moved'; readonly checkpoint: Position }
  /** The work returned Err: rolled back, nothing was written. */
  | { readonly kind: 'rejected'; readonly reason: F };

export type FinishRebuildOutcome<F> =
  | { readonly kind: 'switched'; readonly checkpoint: Position }
  | { readonly kind: 'compared'; readonly checkpoint: Position; readonly differences: SchemaDifferences }
  | { readonly kind: 'rejected'; readonly reason: F };

export interface SchemaDifferences {
  /** Rows present on one side only (a changed row counts twice: once per side). */
  readonly count: number;
  /** A few of those rows, as JSON, for the operator to look at. */
  readonly sample: readonly { readonly table: string; readonly side: 'live' | 'rebuilt'; readonly row: unknown }[];
}

/** An exclusive, cross-instance claim on one projection. */
export interface ProjectionLease {
  /** Aborts when the claim is lost (its connection died): the holder must stop. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export type LeasePurpose = 'run' | 'rebuild';

export interface ProjectionStore {
  /** Undefined when someone (another instance, or this one) already holds it. Never waits. */
  tryAcquireLease(name: string, purpose: LeasePurpose, holder: string): Promise<ProjectionLease | undefined>;

  /**
   * Creates the record (checkpoint at the start) and the live schema on first sight; re-runs
   * the idempotent DDL when the stored version equals the spec's. Returns the record.
   */
  register(spec: ProjectionSpec): Promise<ProjectionRecord>;

  /** All records, or those named. */
  read(names?: readonly string[]): Promise<ProjectionRecord[]>;

  /** Just the checkpoints: the cheap read that waiters poll. */
  readCheckpoints(names: readonly string[]): Promise<Map<string, Position>>;

  /**
   * One transaction: lock the record, and only if its checkpoint is still `from`, run `work`
   * with search_path = `schema`, store the returned changes as realtime rows (one per
   * topic), set the checkpoint to `to`, and notify progress. Infrastructure failures throw.
   */
  commitBatch<F>(batch: BatchSpec, work: TransactionWork<readonly PositionedChange[], F>): Promise<BatchOutcome<F>>;

  /**
   * Several projections' batches (distinct names) in one transaction: one commit instead of
   * one each. Each part is what commitBatch would do alone and stays apart from the others:
   * one whose checkpoint moved, or whose work returns Err, writes nothing while the rest
   * commit. Outcomes are in `parts` order. Infrastructure failures, and work that throws,
   * throw: then nothing was written.
   */
  commitBatches<F>(parts: readonly BatchPart<F>[]): Promise<BatchOutcome<F>[]>;

  /**
   * Whether an error thrown by SQL inside `work` is the store's own trouble (connection
   * lost, deadlock, shutdown), to be retried, rather than the handler's, which stops the
   * projection.
   */
  isTransientError(error: unknown): boolean;

  /** Marks the projection failed (it stays so until clearFailure or a rebuild). */
  recordFailure(name: string, failure: ProjectionFailure): Promise<void>;
  /** False when it was not failed. */
  clearFailure(name: string): Promise<boolean>;

  // ---- rebuilds and audits -------------------------------------------------------------

  /** Drops `schema` if present, creates it empty and runs the DDL in it. */
  resetSchema(schema: string, schemaSql: string): Promise<void>;
  dropSchema(schema: string): Promise<void>;
  /** One transaction with search_path = `schema`; no checkpoint, no realtime rows. */
  applyInSchema<F>(schema: string, work: TransactionWork<void, F>): Promise<Result<void, F>>;
  /** Published for status readers; null when the rebuild ends. */
  recordRebuildProgress(name: string, progress: RebuildProgress | null): Promise<void>;

  /**
   * One transaction holding the record locked (the live runner waits between batches):
   * `catchUp` brings `schema` to the live checkpoint it is given and returns the position it
   * reached; then either
   * - 'switch': live schema → dropped, `schema` → live, record gets `version`, checkpoint
   *   max(live, reached), failure cleared; or
   * - 'compare': the rows of `schema` are compared with the live ones, then everything is
   *   rolled back (the caller drops `schema`).
   */
  finishRebuild<F>(
    request: { readonly spec: ProjectionSpec; readonly schema: string; readonly mode: 'switch' | 'compare' },
    catchUp: (sql: SqlExecutor, liveCheckpoint: Position) => Promise<Result<Position, F>>,
  ): Promise<FinishRebuildOutcome<F>>;
}

/**
 * Tells this process when some projection, in any instance, committed progress. Signals
 * may be lost or coalesced; callers re-read checkpoints and poll as a fallback.
 */
export interface ProjectionProgressFeed {
  /** Returns the unsubscribe function. */
  subscribe(listener: (projection: string) => void): () => void;
  close(): Promise<void>;
}
