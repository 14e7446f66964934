import type { RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import type { SqlExecutor } from '../application/ports/sql.js';

/** Something a realtime subscriber should hear about once the batch that made it commits. */
export interface ProjectionChange {
  /** e.g. `payment:pay_…`, `customer:cus_42`. */
  readonly topics: readonly string[];
  /** e.g. `payment.updated`. */
  readonly type: string;
  /** The updated read-model row, as the query endpoints return it. */
  readonly data: unknown;
}

/**
 * A PostgreSQL read model. Its tables live in their own schema (`rm_<name>`); the runner
 * sets `search_path` to that schema before calling `schemaSql` or `apply`, which is what
 * lets a rebuild replay into a fresh schema and switch atomically. So its SQL names
 * tables unqualified.
 */
export interface Projection {
  /** Lowercase [a-z][a-z0-9_]*; also names the schema `rm_<name>`. */
  readonly name: string;
  /** Bump when the shape or meaning of the rows changes: a new version needs a rebuild. */
  readonly version: number;
  readonly eventTypes: readonly string[];
  /** Idempotent DDL for the projection's tables, unqualified. */
  readonly schemaSql: string;
  /**
   * Optional, for rebuild speed: `schemaSql` in two parts (see `withQueryIndexes`). A
   * rebuild creates the tables, replays into them, and only then builds the indexes that
   * serve queries alone (one sort each instead of one insertion per row), before it
   * catches up and switches. Keys the handler's own statements need (primary keys,
   * ON CONFLICT targets, unique constraints) belong with the tables.
   */
  readonly deferredIndexes?: { readonly tablesSql: string; readonly indexSql: string };
  /**
   * Applies one event inside the batch's transaction, returns the realtime changes it
   * caused. Must be deterministic: a rebuild applies the same events again.
   */
  apply(sql: SqlExecutor, event: RecordedEvent): Promise<readonly ProjectionChange[]>;
  /**
   * Optional, for speed: applies a batch (already filtered to `eventTypes`, in log order)
   * with a few set-based statements instead of one or more per event. Must leave exactly
   * what `apply` event by event would. Throw a ProjectionEventError to name the event at
   * fault; any other error is put on the batch's first event.
   */
  applyBatch?(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<readonly PositionedProjectionChange[]>;
}

export interface PositionedProjectionChange extends ProjectionChange {
  /** The event that caused it. */
  readonly position: Position;
}

/** A handler's error about one event in particular. */
export class ProjectionEventError extends Error {
  override readonly name = 'ProjectionEventError';
  constructor(
    readonly event: RecordedEvent,
    message: string,
  ) {
    super(message);
  }
}

export const projectionSchema = (name: string): string => `rm_${name}`;

/** `schemaSql` as tables then query indexes, the split kept for rebuilds (`deferredIndexes`). */
export function withQueryIndexes(tablesSql: string, indexSql: string): Pick<Projection, 'schemaSql' | 'deferredIndexes'> {
  return { schemaSql: `${tablesSql}\n${indexSql}`, deferredIndexes: { tablesSql, indexSql } };
}
