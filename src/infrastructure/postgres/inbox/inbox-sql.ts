/* The inbox's statements, beside the adapter that runs them (postgres-provider-inbox.ts). */

export const INBOX_TABLE = 'webhook_inbox';

const ENTRY_COLUMNS = `id::text AS id, provider, event_id, type, object_id, provider_created_at, received_at, status, attempts,
  next_attempt_at, last_error, outcome, processed_at`;

/** The acknowledgement's one statement: a repeat of (provider, event_id) inserts nothing and returns no row. `$7`: ms before it is first due. */
export const RECORD_SQL = `
  INSERT INTO ${INBOX_TABLE} (provider, event_id, type, object_id, provider_created_at, payload, next_attempt_at)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, now() + make_interval(secs => $7::double precision / 1000))
  ON CONFLICT (provider, event_id) DO NOTHING
  RETURNING id`;

/**
 * Due rows, and rows whose claim lapsed, oldest due first; SKIP LOCKED so that processors
 * on several instances share the work without waiting on each other. The claim counts as
 * an attempt, so an event that kills its processor every time still runs out of attempts.
 */
export const CLAIM_SQL = `
  UPDATE ${INBOX_TABLE} i
     SET status = 'processing', attempts = i.attempts + 1, claim_token = $3::uuid,
         next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
    FROM (SELECT id FROM ${INBOX_TABLE}
           WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()
           ORDER BY next_attempt_at, id
           LIMIT $1
             FOR UPDATE SKIP LOCKED) due
   WHERE i.id = due.id
  RETURNING i.id::text AS id, i.provider, i.event_id, i.type, i.provider_created_at, i.payload, i.attempts`;

/** A batch of claims finished at once; only rows still held by the same claim are written. */
export const FINISH_ALL_SQL = `
  UPDATE ${INBOX_TABLE} i
     SET status = f.status, outcome = f.outcome, last_error = f.error, processed_at = now(), next_attempt_at = NULL, claim_token = NULL
    FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS f(id, token, status, outcome, error)
   WHERE i.id = f.id AND i.claim_token = f.token AND i.status = 'processing'
  RETURNING i.id::text AS id`;

export const RESCHEDULE_SQL = `
  UPDATE ${INBOX_TABLE}
     SET status = 'pending', last_error = $3, claim_token = NULL,
         next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
   WHERE id = $1 AND claim_token = $2::uuid AND status = 'processing'`;

/** Newest first; `$2` is the id to continue before (null for the first page); one row more than asked says whether a next page exists. */
export const LIST_SQL = `
  SELECT ${ENTRY_COLUMNS} FROM ${INBOX_TABLE}
   WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR id < $2::bigint)
   ORDER BY id DESC
   LIMIT $3`;

export const GET_SQL = `SELECT ${ENTRY_COLUMNS}, payload FROM ${INBOX_TABLE} WHERE id = $1::bigint`;

/** Only a row at rest in failed or ignored: a pending or processing one is already on its way, a processed one is done. */
export const RETRY_SQL = `
  UPDATE ${INBOX_TABLE}
     SET status = 'pending', attempts = 0, next_attempt_at = now(), processed_at = NULL
   WHERE id = $1::bigint AND status IN ('failed', 'ignored')
  RETURNING ${ENTRY_COLUMNS}`;

export const STATUS_SQL = `SELECT status FROM ${INBOX_TABLE} WHERE id = $1::bigint`;

/**
 * Done rows older than the retention, a batch at a time. `failed` rows stay until an
 * operator retries them; `pending` and `processing` are not done.
 */
export const PRUNE_SQL = `
  DELETE FROM ${INBOX_TABLE}
   WHERE id IN (SELECT id FROM ${INBOX_TABLE}
                 WHERE status IN ('processed', 'ignored') AND processed_at < now() - make_interval(days => $1)
                 ORDER BY id
                 LIMIT $2)`;
