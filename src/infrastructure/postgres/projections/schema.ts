import type { Migration } from '../migrator.js';

/*
 * The runner's own bookkeeping. Read models themselves live in schemas rm_<name>, created
 * by the runner from each projection's DDL (not here), so that a rebuild can build a fresh
 * copy beside the live one and swap the two.
 *
 * Positions are two unsigned 64-bit numbers, hence numeric(20,0).
 */
export const projectionMigrations: Migration[] = [
  {
    id: 'projections/001-checkpoints',
    sql: `
      -- One row per projection: its checkpoint (moved in the same transaction as its rows)
      -- and, when a handler threw, why and where it stopped. Updated once per batch, so
      -- leave room for HOT updates.
      CREATE TABLE projection_checkpoints (
        name text PRIMARY KEY
          CONSTRAINT projection_checkpoints_name_format CHECK (name ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$' AND length(name) <= 48),
        version integer NOT NULL CONSTRAINT projection_checkpoints_version_non_negative CHECK (version >= 0),
        checkpoint_commit numeric(20,0) NOT NULL DEFAULT 0,
        checkpoint_prepare numeric(20,0) NOT NULL DEFAULT 0,
        error text,
        failed_position_commit numeric(20,0),
        failed_position_prepare numeric(20,0),
        failed_event_id text,
        failed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT projection_checkpoints_failure_complete CHECK (
          (error IS NULL AND failed_at IS NULL AND failed_position_commit IS NULL AND failed_position_prepare IS NULL AND failed_event_id IS NULL)
          OR (error IS NOT NULL AND failed_at IS NOT NULL AND failed_position_commit IS NOT NULL AND failed_position_prepare IS NOT NULL AND failed_event_id IS NOT NULL)
        )
      ) WITH (fillfactor = 70);

      -- Who took each lease last, and on which backend. The lease itself is an advisory
      -- lock; this row only names the holder, and counts only while that backend holds it.
      CREATE TABLE projection_leases (
        name text NOT NULL,
        purpose text NOT NULL CONSTRAINT projection_leases_purpose_known CHECK (purpose IN ('run', 'rebuild')),
        holder text NOT NULL,
        backend_pid integer NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, purpose)
      );

      -- Progress of running rebuilds and audits, for status readers in other processes.
      CREATE TABLE projection_rebuilds (
        name text PRIMARY KEY,
        processed bigint NOT NULL,
        position_commit numeric(20,0) NOT NULL,
        position_prepare numeric(20,0) NOT NULL,
        head_commit numeric(20,0),
        head_prepare numeric(20,0),
        started_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];

/** NOTIFY channel: a projection committed progress; the payload is its name. */
export const PROJECTIONS_CHANNEL = 'ledger_projections';
