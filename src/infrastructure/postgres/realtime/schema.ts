import type { Migration } from '../migrator.js';

/**
 * The durable change feed behind Socket.IO. The projection runner inserts one row per
 * (change, topic) in the same transaction as the read-model rows it describes, then
 * NOTIFYs `ledger_changes` once per batch. Every service instance tails this table and
 * emits to its own sockets, so no broker is needed to fan out, and a client that
 * subscribes with `since` gets exactly what it missed. Within one projection, rows are
 * written one batch at a time, so a topic's ids follow its positions; across projections
 * transactions can commit out of id order, which the tailer handles by waiting out gaps
 * (src/infrastructure/realtime/feed-cursor.ts).
 */
export const realtimeMigrations: readonly Migration[] = [
  {
    id: 'realtime/001-changes',
    sql: `
      CREATE TABLE IF NOT EXISTS realtime_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        projection text NOT NULL,
        topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 200),
        type text NOT NULL,
        position_commit numeric(20,0) NOT NULL,
        position_prepare numeric(20,0) NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS realtime_changes_topic_id ON realtime_changes (topic, id);
      CREATE INDEX IF NOT EXISTS realtime_changes_created_at ON realtime_changes (created_at);
    `,
  },
];

export const CHANGES_CHANNEL = 'ledger_changes';
