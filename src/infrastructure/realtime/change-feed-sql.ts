import type pg from 'pg';
import { formatPosition, type PositionParts } from '../../application/ports/position.js';
import { changeWireData } from '../http/wire-form.js';
import type { ChangeMessage } from './protocol.js';

/**
 * Every statement the realtime module runs against `realtime_changes` (schema:
 * src/infrastructure/postgres/realtime/schema.ts). Ids and positions travel as text:
 * int8 and numeric(20,0) do not fit a JS number.
 */

export type Queryable = Pick<pg.Pool, 'query'>;

/** One row of the feed, with its wire message built once and shared by every emit. */
export interface FeedChange {
  readonly id: bigint;
  readonly at: PositionParts;
  readonly message: ChangeMessage;
}

interface ChangeRow {
  id: string;
  topic: string;
  type: string;
  commit: string;
  prepare: string;
  data: unknown;
}

function toFeedChange(row: ChangeRow): FeedChange {
  const at = { commit: BigInt(row.commit), prepare: BigInt(row.prepare) };
  return {
    id: BigInt(row.id),
    at,
    message: { topic: row.topic, type: row.type, position: formatPosition(at), data: changeWireData(row.type, row.data) },
  };
}

export interface StartPoint {
  readonly maxId: bigint;
  /** The lowest id in the recent window that is not (yet) visible; see ChangeFeedTailer. */
  readonly firstHole: bigint | undefined;
  readonly snapshot: string;
}

/**
 * Where a fresh tailer begins: the newest id, plus the lowest missing id among the last
 * `window` ids, because a transaction that took such an id may still commit it.
 */
export async function readStartPoint(db: Queryable, window: number): Promise<StartPoint> {
  const { rows } = await db.query<{ max_id: string; snapshot: string; first_hole: string | null }>(
    `WITH top AS (SELECT coalesce(max(id), 0) AS max_id FROM realtime_changes),
          recent AS (SELECT r.id FROM realtime_changes r, top WHERE r.id > top.max_id - $1::bigint)
     SELECT top.max_id::text AS max_id,
            pg_current_snapshot()::text AS snapshot,
            (SELECT min(g)::text
               FROM generate_series(greatest(top.max_id - $1::bigint + 1, 1), top.max_id) AS g
              WHERE NOT EXISTS (SELECT 1 FROM recent WHERE recent.id = g)) AS first_hole
       FROM top`,
    [window],
  );
  const row = rows[0];
  if (!row) throw new Error('start point query returned no row');
  return {
    maxId: BigInt(row.max_id),
    firstHole: row.first_hole === null ? undefined : BigInt(row.first_hole),
    snapshot: row.snapshot,
  };
}

export interface FeedRead {
  readonly changes: readonly FeedChange[];
  /** The statement's snapshot, as text (`xmin:xmax:xip,…`). */
  readonly snapshot: string;
  /**
   * Whether every transaction that was in progress in `witness` had finished when this
   * statement's snapshot was taken (true when no witness was given).
   */
  readonly witnessSettled: boolean;
}

/**
 * The next rows after `afterId`, in id order. One statement, hence one snapshot, for the
 * rows, the snapshot and the witness check: "the witness's transactions have finished"
 * and "their rows are visible here" must be judged at the same instant.
 */
export async function readAfter(db: Queryable, afterId: bigint, limit: number, witness: string | undefined): Promise<FeedRead> {
  const { rows } = await db.query<{ snapshot: string; settled: boolean } & { [K in keyof ChangeRow]: ChangeRow[K] | null }>(
    `SELECT s.snap::text AS snapshot,
            coalesce((SELECT bool_and(pg_visible_in_snapshot(x, s.snap)) FROM pg_snapshot_xip($3::pg_snapshot) AS x), true) AS settled,
            c.id::text AS id, c.topic, c.type, c.position_commit::text AS commit, c.position_prepare::text AS prepare, c.data
       FROM (SELECT pg_current_snapshot() AS snap) AS s
       LEFT JOIN LATERAL (
         SELECT id, topic, type, position_commit, position_prepare, data
           FROM realtime_changes WHERE id > $1::bigint ORDER BY id LIMIT $2
       ) AS c ON true
      ORDER BY c.id`,
    [afterId.toString(), limit, witness ?? null],
  );
  const first = rows[0];
  if (!first) throw new Error('feed query returned no row');
  const changes: FeedChange[] = [];
  for (const row of rows) {
    if (row.id === null) continue; // the LEFT JOIN's empty side: no rows after afterId
    changes.push(toFeedChange(row as ChangeRow));
  }
  return { changes, snapshot: first.snapshot, witnessSettled: first.settled };
}

export interface BacklogQuery {
  readonly topics: readonly string[];
  /** Only changes strictly after this position. */
  readonly since: PositionParts;
  /** Only rows the tailer had already handed out when the subscriber arrived. */
  readonly upToId: bigint;
  /** Examine at most this many rows per topic (newest first). */
  readonly window: number;
}

export interface Backlog {
  readonly changes: readonly FeedChange[];
  /** Some topic had `window` rows after `since`: there may be more than we read. */
  readonly truncated: boolean;
  /** The newest id visible to the same snapshot (0 when the feed is empty). */
  readonly maxId: bigint;
}

/**
 * The changes a subscriber missed, in id order. Per topic it reads the newest `window`
 * rows at or below `upToId` through the (topic, id) index, so the cost is bounded however
 * long the topic's history is; there is no index on position. If the oldest row of a full
 * window is still after `since`, older rows may be too: `truncated`. If it is not, we
 * stop there, relying on the feed's invariant that a topic's positions rise with its ids
 * (true for a topic fed by one projection; see the schema's comment).
 */
export async function readBacklog(db: Queryable, query: BacklogQuery): Promise<Backlog> {
  const { rows } = await db.query<{ max_id: string; window_edge: boolean | null } & { [K in keyof ChangeRow]: ChangeRow[K] | null }>(
    `SELECT m.max_id::text AS max_id, b.window_edge,
            b.id::text AS id, b.topic, b.type, b.position_commit::text AS commit, b.position_prepare::text AS prepare, b.data
       FROM (SELECT coalesce(max(id), 0) AS max_id FROM realtime_changes) AS m
       LEFT JOIN LATERAL (
         SELECT * FROM (
           SELECT c.*, (count(*) OVER w >= $3 AND c.id = min(c.id) OVER w) AS window_edge
             FROM unnest($1::text[]) AS t(topic)
            CROSS JOIN LATERAL (
              SELECT r.id, r.topic, r.type, r.position_commit, r.position_prepare, r.data
                FROM realtime_changes r
               WHERE r.topic = t.topic AND r.id <= $2::bigint
               ORDER BY r.id DESC LIMIT $3
            ) AS c
           WINDOW w AS (PARTITION BY c.topic)
         ) AS recent
         WHERE (recent.position_commit, recent.position_prepare) > ($4::numeric, $5::numeric)
       ) AS b ON true
      ORDER BY b.id`,
    [query.topics, query.upToId.toString(), query.window, query.since.commit.toString(), query.since.prepare.toString()],
  );
  const first = rows[0];
  if (!first) throw new Error('backlog query returned no row');
  const changes: FeedChange[] = [];
  let truncated = false;
  for (const row of rows) {
    if (row.id === null) continue; // the LEFT JOIN's empty side: no backlog
    changes.push(toFeedChange(row as ChangeRow));
    if (row.window_edge === true) truncated = true;
  }
  return { changes, truncated, maxId: BigInt(first.max_id) };
}

export interface OldestChange {
  readonly id: bigint;
  readonly at: PositionParts;
}

/** The first row still kept, or undefined when the feed is empty. */
export async function readOldest(db: Queryable): Promise<OldestChange | undefined> {
  const { rows } = await db.query<{ id: string; commit: string; prepare: string }>(
    `SELECT id::text AS id, position_commit::text AS commit, position_prepare::text AS prepare
       FROM realtime_changes ORDER BY id LIMIT 1`,
  );
  const row = rows[0];
  return row ? { id: BigInt(row.id), at: { commit: BigInt(row.commit), prepare: BigInt(row.prepare) } } : undefined;
}

/**
 * Deletes up to `limit` rows created more than `olderThanMs` ago; returns how many.
 * SKIP LOCKED: instances pruning at the same moment take different rows instead of
 * queueing behind each other's row locks.
 */
export async function pruneOnce(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const result = await db.query(
    `WITH doomed AS (
       SELECT id FROM realtime_changes
        WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
        LIMIT $2 FOR UPDATE SKIP LOCKED
     )
     DELETE FROM realtime_changes r USING doomed WHERE r.id = doomed.id`,
    [olderThanMs, limit],
  );
  return result.rowCount ?? 0;
}
