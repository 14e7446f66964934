import type { Position } from '../../../application/ports/position.js';
import { position } from '../../../application/ports/position.js';
import type { ProjectionRecord } from '../../../application/ports/projection-store.js';
import { LEASE_LOCK_CLASS } from './advisory-leases.js';

/*
 * Reading projection records. The leader and any running rebuild come from the advisory
 * locks themselves (pg_locks), so a holder that died is never reported as alive; the
 * lease tables only put a name to the backend that holds the lock.
 */

const heldBy = (lockClass: number): string => `(
  SELECT l.pid FROM pg_locks l
   WHERE l.locktype = 'advisory'
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid = ${lockClass}::oid
     AND l.objid = hashtext(c.name)::oid
     AND l.objsubid = 2
     AND l.granted
   LIMIT 1)`;

export const READ_RECORDS = `
SELECT c.name, c.version, c.checkpoint_commit, c.checkpoint_prepare,
       c.error, c.failed_position_commit, c.failed_position_prepare, c.failed_event_id, c.failed_at,
       c.updated_at,
       CASE WHEN locks.run_pid IS NULL THEN NULL
            WHEN locks.run_pid = run.backend_pid THEN run.holder
            ELSE 'backend ' || locks.run_pid END AS leader,
       CASE WHEN locks.rebuild_pid IS NULL THEN NULL ELSE r.processed END AS rebuild_processed,
       r.position_commit AS rebuild_position_commit, r.position_prepare AS rebuild_position_prepare,
       r.head_commit AS rebuild_head_commit, r.head_prepare AS rebuild_head_prepare,
       r.started_at AS rebuild_started_at
  FROM projection_checkpoints c
  CROSS JOIN LATERAL (SELECT ${heldBy(LEASE_LOCK_CLASS.run)} AS run_pid, ${heldBy(LEASE_LOCK_CLASS.rebuild)} AS rebuild_pid) locks
  LEFT JOIN projection_leases run ON run.name = c.name AND run.purpose = 'run'
  LEFT JOIN projection_rebuilds r ON r.name = c.name
 WHERE $1::text[] IS NULL OR c.name = ANY($1::text[])
 ORDER BY c.name`;

export interface RecordRow {
  readonly name: string;
  readonly version: number;
  readonly checkpoint_commit: string;
  readonly checkpoint_prepare: string;
  readonly error: string | null;
  readonly failed_position_commit: string | null;
  readonly failed_position_prepare: string | null;
  readonly failed_event_id: string | null;
  readonly failed_at: Date | null;
  readonly updated_at: Date;
  readonly leader: string | null;
  readonly rebuild_processed: string | null;
  readonly rebuild_position_commit: string | null;
  readonly rebuild_position_prepare: string | null;
  readonly rebuild_head_commit: string | null;
  readonly rebuild_head_prepare: string | null;
  readonly rebuild_started_at: Date | null;
}

/** numeric(20,0) columns arrive as decimal strings. */
export const positionOf = (commit: string, prepare: string): Position => position(BigInt(commit), BigInt(prepare));

const optionalPosition = (commit: string | null, prepare: string | null): Position | undefined =>
  commit !== null && prepare !== null ? positionOf(commit, prepare) : undefined;

export function recordFromRow(row: RecordRow): ProjectionRecord {
  const failedAt = optionalPosition(row.failed_position_commit, row.failed_position_prepare);
  const rebuildPosition = optionalPosition(row.rebuild_position_commit, row.rebuild_position_prepare);
  return {
    name: row.name,
    version: row.version,
    checkpoint: positionOf(row.checkpoint_commit, row.checkpoint_prepare),
    failure:
      row.error !== null && failedAt && row.failed_at
        ? { message: row.error, position: failedAt, eventId: row.failed_event_id ?? '', at: row.failed_at }
        : null,
    leader: row.leader,
    rebuild:
      row.rebuild_processed !== null && rebuildPosition && row.rebuild_started_at
        ? {
            processed: Number(row.rebuild_processed),
            position: rebuildPosition,
            head: optionalPosition(row.rebuild_head_commit, row.rebuild_head_prepare),
            startedAt: row.rebuild_started_at,
          }
        : null,
    updatedAt: row.updated_at,
  };
}
