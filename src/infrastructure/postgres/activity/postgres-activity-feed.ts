import type pg from 'pg';
import type { ActivityEntry, ActivityFeedState, ActivityFeedStore, ActivityPageRequest, ActivityRecord } from '../../../application/ports/activity-feed.js';
import type { Position } from '../../../application/ports/position.js';
import { formatPosition, parsePosition } from '../../../application/ports/position.js';
import { positionSortKey } from '../../../projections/activity/activity-entries.js';
import { inTransaction } from '../projections/transaction.js';

const INSERT = `
INSERT INTO activity_entries (generation, id, customer_id, sort_key, entry)
SELECT $1, r.id, r.customer_id, r.sort_key, r.entry
  FROM jsonb_to_recordset($2::jsonb) AS r(id text, customer_id text, sort_key text, entry jsonb)
ON CONFLICT (generation, id) DO NOTHING`;

const PAGE = `
SELECT entry FROM activity_entries
 WHERE generation = (SELECT live FROM activity_feed_state) AND customer_id = $1 AND ($2::text IS NULL OR sort_key < $2)
 ORDER BY sort_key DESC
 LIMIT $3`;

function parseStored(text: string): Position {
  const p = parsePosition(text);
  if (!p) throw new Error(`activity feed: stored checkpoint ${JSON.stringify(text)} is not a position`);
  return p;
}

/**
 * PostgreSQL JSONB adapter of the activity feed (tables from activity/001-feed). The same
 * write-then-checkpoint contract as the MongoDB adapter, though PostgreSQL could do both in
 * one transaction: one loop and one contract for both (see activity-feed-runner.ts).
 */
export class PostgresActivityFeed implements ActivityFeedStore {
  constructor(private readonly pool: pg.Pool) {}

  async prepare(): Promise<void> {
    // The migration creates everything; this proves the tables answer.
    await this.state();
  }

  async state(): Promise<ActivityFeedState> {
    const { rows } = await this.pool.query<{ live: number; checkpoint: string }>(
      `SELECT s.live, g.checkpoint FROM activity_feed_state s JOIN activity_feed_generations g ON g.generation = s.live`,
    );
    const row = rows[0];
    if (!row) throw new Error('activity feed: no state row (has the activity/001-feed migration run?)');
    return { live: row.live, checkpoint: parseStored(row.checkpoint) };
  }

  async checkpointOf(generation: number): Promise<Position | undefined> {
    const { rows } = await this.pool.query<{ checkpoint: string }>(`SELECT checkpoint FROM activity_feed_generations WHERE generation = $1`, [generation]);
    return rows[0] ? parseStored(rows[0].checkpoint) : undefined;
  }

  async insert(generation: number, records: readonly ActivityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map(({ customerId, entry }) => ({
      id: entry.id,
      customer_id: customerId,
      sort_key: positionSortKey(parseStored(entry.position)),
      entry,
    }));
    await this.pool.query(INSERT, [generation, JSON.stringify(rows)]);
  }

  async advance(generation: number, from: Position, to: Position): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE activity_feed_generations SET checkpoint = $3 WHERE generation = $1 AND checkpoint = $2`,
      [generation, formatPosition(from), formatPosition(to)],
    );
    return rowCount === 1;
  }

  async page(request: ActivityPageRequest): Promise<ActivityEntry[]> {
    const before = request.beforePosition ? positionSortKey(request.beforePosition) : null;
    const { rows } = await this.pool.query<{ entry: ActivityEntry }>(PAGE, [request.customerId, before, request.limit]);
    return rows.map((r) => r.entry);
  }

  async createGeneration(): Promise<number> {
    const generation = await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ generation: number; live: number }>(
        `UPDATE activity_feed_state SET next_generation = next_generation + 1 RETURNING next_generation - 1 AS generation, live`,
      );
      const row = rows[0];
      if (!row) throw new Error('activity feed: no state row');
      await client.query(`DELETE FROM activity_feed_generations WHERE generation <> $1`, [row.live]);
      await client.query(`INSERT INTO activity_feed_generations (generation, checkpoint) VALUES ($1, '0.0')`, [row.generation]);
      return { commit: true, value: row.generation };
    });
    await this.dropRetired();
    return generation;
  }

  async switchLive(generation: number): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(`UPDATE activity_feed_state SET live = $1`, [generation]);
      await client.query(`DELETE FROM activity_feed_generations WHERE generation <> $1`, [generation]);
      return { commit: true, value: undefined };
    });
    await this.dropRetired();
  }

  /** Rows of generations that are neither live nor being built. */
  private async dropRetired(): Promise<void> {
    await this.pool.query(`DELETE FROM activity_entries WHERE generation NOT IN (SELECT generation FROM activity_feed_generations)`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
