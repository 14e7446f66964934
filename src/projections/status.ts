import type { EventStore } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import { START, comparePositions, formatPosition } from '../application/ports/position.js';
import type { ProjectionRecord, ProjectionStore } from '../application/ports/projection-store.js';
import type { Projection } from './projection.js';

export type ProjectionStatusValue =
  /** Someone holds the lease and is within one batch of the head. */
  | 'running'
  /** Someone holds the lease and is more than one batch behind. */
  | 'catching_up'
  /** Nobody holds the lease (no instance runs it, or it was never started). */
  | 'stopped'
  /** A handler threw; stopped at `failedPosition` until restarted or rebuilt. */
  | 'failed'
  /** A rebuild or audit is replaying it right now (the live schema still serves). */
  | 'rebuilding';

export interface ProjectionStatus {
  readonly name: string;
  /** The version this code runs. */
  readonly version: number;
  /** The version the live rows were built with; null before the first start. */
  readonly storedVersion: number | null;
  /**
   * The live rows are an older version than this code: the next leader running this code
   * rebuilds them on its own, or run a rebuild.
   */
  readonly needsRebuild: boolean;
  readonly status: ProjectionStatusValue;
  readonly checkpoint: string | null;
  /**
   * Events in the log after the checkpoint, counted by reading ahead at most `lagCap`
   * events (so it is exact below the cap; `lagExact` false means "at least this many").
   */
  readonly lag: number;
  readonly lagExact: boolean;
  readonly error: string | null;
  readonly failedPosition: string | null;
  readonly failedEventId: string | null;
  readonly updatedAt: string | null;
  /** Instance holding the run lease, when known. */
  readonly leader: string | null;
  readonly rebuild: { readonly processed: number; readonly position: string; readonly head: string | null; readonly startedAt: string } | null;
}

export interface StatusOptions {
  /** Upper bound of events read per projection to count its lag. Default 1,000. */
  readonly lagCap?: number;
  /** Lag above which a led projection counts as catching up. Default 500 (one batch). */
  readonly catchingUpAbove?: number;
}

/**
 * The status of every projection this code knows, plus any other the store knows, as any
 * instance (HTTP admin, CLI) sees it from the shared database: leadership comes from the
 * lease, not from local memory.
 */
export async function readProjectionStatuses(
  deps: { readonly store: ProjectionStore; readonly eventStore: EventStore; readonly projections: readonly Projection[] },
  options: StatusOptions = {},
): Promise<ProjectionStatus[]> {
  const lagCap = Math.max(1, Math.min(options.lagCap ?? 1_000, 10_000));
  const catchingUpAbove = options.catchingUpAbove ?? 500;
  const [records, head] = await Promise.all([deps.store.read(), deps.eventStore.headPosition()]);
  const byName = new Map(records.map((r) => [r.name, r]));
  const names = [...new Set([...deps.projections.map((p) => p.name), ...records.map((r) => r.name)])].sort();
  return Promise.all(
    names.map(async (name) => {
      const record = byName.get(name);
      const version = deps.projections.find((p) => p.name === name)?.version ?? record?.version ?? 0;
      const lag = await countLag(deps.eventStore, record?.checkpoint ?? START, head, lagCap);
      return toStatus(name, version, record, lag, catchingUpAbove);
    }),
  );
}

/** The status of one projection, or undefined when neither the code nor the store knows it. */
export async function readProjectionStatus(
  deps: { readonly store: ProjectionStore; readonly eventStore: EventStore; readonly projections: readonly Projection[] },
  name: string,
  options: StatusOptions = {},
): Promise<ProjectionStatus | undefined> {
  return (await readProjectionStatuses(deps, options)).find((s) => s.name === name);
}

/** readAll calls one lag count may make; past them the count is reported as inexact. */
const MAX_LAG_READS = 10;

async function countLag(eventStore: EventStore, checkpoint: Position, head: Position | undefined, cap: number): Promise<{ count: number; exact: boolean }> {
  if (head === undefined || comparePositions(head, checkpoint) <= 0) return { count: 0, exact: true };
  const after = comparePositions(checkpoint, START) === 0 ? undefined : checkpoint;
  // readAll may return fewer than asked per call; a few calls keep the count honest up to the cap.
  let count = 0;
  let from = after;
  for (let calls = 1; calls <= MAX_LAG_READS && count < cap; calls++) {
    const events = await eventStore.readAll({ after: from, maxCount: cap - count });
    const last = events[events.length - 1];
    if (!last) return { count, exact: true };
    count += events.length;
    if (comparePositions(last.position, head) >= 0) return { count, exact: true };
    from = last.position;
  }
  return { count, exact: false };
}

function toStatus(name: string, version: number, record: ProjectionRecord | undefined, lag: { count: number; exact: boolean }, catchingUpAbove: number): ProjectionStatus {
  const rebuild = record?.rebuild ?? null;
  let status: ProjectionStatusValue;
  if (record?.failure) status = 'failed';
  else if (rebuild) status = 'rebuilding';
  else if (!record?.leader) status = 'stopped';
  else if (lag.count > catchingUpAbove || !lag.exact) status = 'catching_up';
  else status = 'running';
  return {
    name,
    version,
    storedVersion: record?.version ?? null,
    needsRebuild: record !== undefined && record.version < version,
    status,
    checkpoint: record ? formatPosition(record.checkpoint) : null,
    lag: lag.count,
    lagExact: lag.exact,
    error: record?.failure?.message ?? null,
    failedPosition: record?.failure ? formatPosition(record.failure.position) : null,
    failedEventId: record?.failure?.eventId ?? null,
    updatedAt: record ? record.updatedAt.toISOString() : null,
    leader: record?.leader ?? null,
    rebuild: rebuild
      ? {
          processed: rebuild.processed,
          position: formatPosition(rebuild.position),
          head: rebuild.head ? formatPosition(rebuild.head) : null,
          startedAt: rebuild.startedAt.toISOString(),
        }
      : null,
  };
}
