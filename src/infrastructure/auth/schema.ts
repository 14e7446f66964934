import type { Migration } from '../postgres/migrator.js';

/**
 * API keys: one row per key, never deleted (revocation is a timestamp and an actor, so
 * `keys list` and the audit trail agree forever). The secret is stored only as a 32-byte
 * SHA-256 or HMAC-SHA256 (`pepper_id` says which pepper, null for none).
 */
export const apiKeyMigrations: readonly Migration[] = [
  {
    id: 'auth/001-api-keys',
    sql: `
      CREATE TABLE IF NOT EXISTS api_keys (
        id text PRIMARY KEY CONSTRAINT api_keys_id_format CHECK (id ~ '^[0-9a-f]{16}$'),
        secret_hash bytea NOT NULL CONSTRAINT api_keys_secret_hash_length CHECK (length(secret_hash) = 32),
        pepper_id text,
        scopes text[] NOT NULL CONSTRAINT api_keys_scopes_not_empty CHECK (cardinality(scopes) > 0),
        customer_id text CONSTRAINT api_keys_customer_id_format CHECK (customer_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
        name text NOT NULL DEFAULT '' CONSTRAINT api_keys_name_length CHECK (length(name) <= 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text NOT NULL,
        revoked_at timestamptz,
        revoked_by text,
        last_used_at timestamptz,
        CONSTRAINT api_keys_revocation_has_actor CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
      );
    `,
  },
];
