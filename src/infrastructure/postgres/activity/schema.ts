import type { Migration } from '../migrator.js';

/**
 * The activity feed's PostgreSQL JSONB adapter (the default when MONGO_URL is unset).
 * Entries are keyed (generation, event id) so inserts are idempotent; a rebuild writes the
 * next generation beside the live one. `sort_key` is the event position zero-padded, in the
 * C collation so it sorts byte-wise like the position; the timeline index serves "one
 * customer, newest first, before a cursor" (src/infrastructure/postgres/activity).
 */
export const activityFeedMigrations: readonly Migration[] = [
  {
    id: 'activity/001-feed',
    sql: `
      CREATE TABLE IF NOT EXISTS activity_feed_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        live integer NOT NULL,
        next_generation integer NOT NULL
      );
      CREATE TABLE IF NOT EXISTS activity_feed_generations (
        generation integer PRIMARY KEY,
        checkpoint text NOT NULL
      );
      CREATE TABLE IF NOT EXISTS activity_entries (
        generation integer NOT NULL,
        id text NOT NULL,
        customer_id text NOT NULL,
        sort_key text COLLATE "C" NOT NULL,
        entry jsonb NOT NULL,
        PRIMARY KEY (generation, id)
      );
      CREATE INDEX IF NOT EXISTS activity_entries_timeline ON activity_entries (generation, customer_id, sort_key DESC);
      INSERT INTO activity_feed_state (live, next_generation) VALUES (1, 2) ON CONFLICT DO NOTHING;
      INSERT INTO activity_feed_generations (generation, checkpoint) VALUES (1, '0.0') ON CONFLICT DO NOTHING;
    `,
  },
];
