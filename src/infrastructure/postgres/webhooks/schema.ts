import type { Migration } from '../migrator.js';

/*
 * Outbound webhooks (README, "Webhooks"). Endpoints are configuration (not events: a
 * merchant's URL and secrets are not ledger facts, and a secret must be deletable).
 * Deliveries are written by the fan-out in the same transaction as its checkpoint (exactly
 * one row per endpoint and event: unique (endpoint_id, event_id)), then worked off by the
 * sender: `seq` is the fan-out's order, which is log order, and an endpoint's oldest
 * pending delivery is the only one of its deliveries that may be sent.
 *
 * Secrets are stored as they are: signing needs the key itself (an HMAC key cannot be
 * kept as a hash). Each is `{ secret, expiresAt }`, newest first; a rotation gives the
 * old one an expiry 24 h out, and the sender signs with every unexpired one.
 */
export const webhookMigrations: readonly Migration[] = [
  {
    id: 'webhooks/001-endpoints-and-deliveries',
    sql: `
      CREATE TABLE IF NOT EXISTS webhook_endpoints (
        id text COLLATE "C" PRIMARY KEY,
        url text NOT NULL CONSTRAINT webhook_endpoints_url_length CHECK (length(url) <= 2048),
        events text[] NOT NULL CONSTRAINT webhook_endpoints_events_not_empty CHECK (cardinality(events) > 0),
        description text CONSTRAINT webhook_endpoints_description_length CHECK (length(description) <= 500),
        status text NOT NULL CONSTRAINT webhook_endpoints_status_known CHECK (status IN ('enabled', 'disabled')),
        disabled_reason text,
        secrets jsonb NOT NULL,
        -- Events at or before this log position (the head when it was created) are not sent to it.
        after_commit numeric(20,0) NOT NULL,
        after_prepare numeric(20,0) NOT NULL,
        -- Since when every attempt failed (null after any success): 3 days of it disables the endpoint.
        failing_since timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );

      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        endpoint_id text COLLATE "C" NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        payload text NOT NULL,
        status text NOT NULL CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        first_attempt_at timestamptz,
        next_attempt_at timestamptz,
        lease_holder text,
        lease_expires_at timestamptz,
        last_status_code integer,
        last_latency_ms integer,
        last_error text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
      );
      -- The sender's "oldest pending delivery of this endpoint".
      CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (endpoint_id, seq) WHERE status = 'pending';
      -- The delivery log, newest first.
      CREATE INDEX IF NOT EXISTS webhook_deliveries_log ON webhook_deliveries (endpoint_id, seq DESC);

      CREATE TABLE IF NOT EXISTS webhook_delivery_attempts (
        delivery_id text COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz NOT NULL,
        status_code integer,
        latency_ms integer NOT NULL,
        error text,
        response_body text,
        PRIMARY KEY (delivery_id, attempt)
      );
    `,
  },
  {
    // Retention (webhook-delivery-retention.ts): the pruning task's "finished before the cutoff".
    id: 'webhooks/002-finished-deliveries-index',
    sql: `CREATE INDEX IF NOT EXISTS webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status IN ('succeeded', 'failed');`,
  },
];
