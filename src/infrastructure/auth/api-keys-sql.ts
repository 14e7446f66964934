/** The SQL of api-keys.ts. Hashes leave the database only in LOOKUP, which verification needs. */

export const INSERT_KEY = `INSERT INTO api_keys (id, secret_hash, pepper_id, scopes, customer_id, name, created_by)
  VALUES ($1, $2, $3, $4::text[], $5, $6, $7)
  RETURNING created_at`;

export const LOOKUP_KEY = `SELECT id, secret_hash, pepper_id, scopes, customer_id, revoked_at
  FROM api_keys WHERE id = $1`;

// Columns for list(): everything except the hash.
const PUBLIC_COLUMNS = 'id, name, scopes, customer_id, created_at, created_by, revoked_at, revoked_by, last_used_at';

export const LIST_KEYS = `SELECT ${PUBLIC_COLUMNS} FROM api_keys ORDER BY created_at, id`;

export const LIST_ACTIVE_KEYS = `SELECT ${PUBLIC_COLUMNS} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id`;

/** Takes the row lock: a concurrent revoke of the same key waits, then finds it revoked. */
export const REVOKE_KEY = `UPDATE api_keys SET revoked_at = now(), revoked_by = $2
  WHERE id = $1 AND revoked_at IS NULL
  RETURNING ${PUBLIC_COLUMNS}`;

export const REVOCATION_OF = `SELECT revoked_at, revoked_by FROM api_keys WHERE id = $1`;

/**
 * At most one write per key per interval across every instance: a key used a thousand
 * times a second costs one UPDATE a minute, and none while the row is fresh.
 */
export const TOUCH_KEY = `UPDATE api_keys SET last_used_at = $2::timestamptz
  WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - make_interval(secs => $3::float8))`;
