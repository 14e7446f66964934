import type { Migration } from '../migrator.js';

/**
 * One row per (actor, Idempotency-Key). `in_flight` rows carry a lease (`lease_token`,
 * `locked_until`): a request that crashed keeps its key only until the lease runs out,
 * then a retry takes it over. `completed` rows carry the first response, byte for byte.
 * `created_at` is the key's first sighting, from which the command derives its ids, so it
 * survives takeovers. Rows expire at `expires_at` (24 h by default) and are pruned.
 */
export const idempotencyMigrations: readonly Migration[] = [
  {
    id: 'idempotency/001-keys',
    sql: `
      CREATE TABLE IF NOT EXISTS idempotency_keys (
        actor text NOT NULL,
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        request_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_flight', 'completed')),
        lease_token uuid,
        locked_until timestamptz,
        response_status smallint,
        response_headers jsonb,
        response_body bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (actor, key),
        CONSTRAINT idempotency_keys_in_flight_has_lease CHECK ((state = 'in_flight') = (locked_until IS NOT NULL)),
        CONSTRAINT idempotency_keys_completed_has_response CHECK (
          (state = 'completed') = (response_status IS NOT NULL AND response_headers IS NOT NULL AND response_body IS NOT NULL)
        )
      );
      CREATE INDEX IF NOT EXISTS idempotency_keys_expires_at ON idempotency_keys (expires_at);
    `,
  },
];
