import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../../application/ports/sql.js';
import type { IdempotencyBegin, IdempotencyScope, IdempotencyStore, StoredResponse } from '../../../application/ports/idempotency-store.js';

export interface IdempotencyStoreOptions {
  /** How long an unfinished request holds its key; after that a retry may take it over. */
  readonly leaseMs: number;
  /** How long a key is remembered after its first use. */
  readonly retentionMs: number;
}

export const DEFAULT_IDEMPOTENCY_OPTIONS: IdempotencyStoreOptions = Object.freeze({
  leaseMs: 60_000,
  retentionMs: 24 * 60 * 60 * 1000,
});

/*
 * Claims the key in one statement. A new key is inserted. An existing one is taken over
 * only when it has expired (then it starts afresh) or when it is in flight with a lapsed
 * lease and the same request (a crashed or released attempt: it keeps its created_at, so
 * the retry derives the same payment and event ids). Otherwise nothing is returned and
 * the caller looks at the row to say why. Timestamps are the database's, so every
 * instance agrees on leases whatever its own clock says.
 */
const CLAIM = `
  INSERT INTO idempotency_keys AS k (actor, key, request_hash, state, lease_token, locked_until, created_at, expires_at)
  VALUES ($1, $2, $3, 'in_flight', $4, now() + $5 * interval '1 millisecond', now(), now() + $6 * interval '1 millisecond')
  ON CONFLICT (actor, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash,
    state = 'in_flight',
    lease_token = EXCLUDED.lease_token,
    locked_until = EXCLUDED.locked_until,
    response_status = NULL,
    response_headers = NULL,
    response_body = NULL,
    completed_at = NULL,
    created_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.created_at ELSE k.created_at END,
    expires_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.expires_at ELSE k.expires_at END
  WHERE k.expires_at <= now()
     OR (k.state = 'in_flight' AND k.locked_until <= now() AND k.request_hash = EXCLUDED.request_hash)
  RETURNING created_at`;

const INSPECT = `
  SELECT request_hash, state, response_status, response_headers, response_body
  FROM idempotency_keys
  WHERE actor = $1 AND key = $2 AND expires_at > now()`;

const COMPLETE = `
  UPDATE idempotency_keys
  SET state = 'completed', response_status = $4, response_headers = $5, response_body = $6,
      completed_at = now(), lease_token = NULL, locked_until = NULL
  WHERE actor = $1 AND key = $2 AND lease_token = $3 AND state = 'in_flight'`;

/* Released keys stay bound to their request and first-seen time; only the lease ends now. */
const RELEASE = `
  UPDATE idempotency_keys
  SET lease_token = NULL, locked_until = now()
  WHERE actor = $1 AND key = $2 AND lease_token = $3 AND state = 'in_flight'`;

/* Batched, so pruning a backlog never holds many row locks or one long transaction. */
const PRUNE_BATCH = `
  DELETE FROM idempotency_keys
  WHERE (actor, key) IN (
    SELECT actor, key FROM idempotency_keys WHERE expires_at <= now() ORDER BY expires_at LIMIT $1
  )`;

interface InspectRow {
  readonly request_hash: string;
  readonly state: 'in_flight' | 'completed';
  readonly response_status: number | null;
  readonly response_headers: Record<string, string> | null;
  readonly response_body: Buffer | null;
}

/** Idempotency-Key records in PostgreSQL (table from `idempotencyMigrations`). */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly options: IdempotencyStoreOptions;

  constructor(
    private readonly sql: SqlExecutor,
    options: Partial<IdempotencyStoreOptions> = {},
  ) {
    this.options = { ...DEFAULT_IDEMPOTENCY_OPTIONS, ...options };
  }

  async begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyBegin> {
    // A row can vanish between the claim and the look (pruned the instant it expired): claim again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = randomUUID();
      const claimed = await this.sql.query<{ created_at: Date }>(CLAIM, [
        scope.actor,
        scope.key,
        requestHash,
        lease,
        this.options.leaseMs,
        this.options.retentionMs,
      ]);
      const row = claimed.rows[0];
      if (row) return { kind: 'started', firstSeenAt: row.created_at, lease };

      const existing = (await this.sql.query<InspectRow>(INSPECT, [scope.actor, scope.key])).rows[0];
      if (!existing) continue;
      if (existing.request_hash !== requestHash) return { kind: 'mismatch' };
      if (existing.state === 'in_flight') return { kind: 'in_flight' };
      if (existing.response_status === null || existing.response_headers === null || existing.response_body === null) {
        throw new Error('completed idempotency record without a response');
      }
      return {
        kind: 'replay',
        response: { status: existing.response_status, headers: existing.response_headers, body: existing.response_body },
      };
    }
    throw new Error(`idempotency key could not be claimed or read for actor ${scope.actor}`);
  }

  async complete(scope: IdempotencyScope, lease: string, response: StoredResponse): Promise<void> {
    await this.sql.query(COMPLETE, [
      scope.actor,
      scope.key,
      lease,
      response.status,
      JSON.stringify(response.headers),
      Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
    ]);
  }

  async release(scope: IdempotencyScope, lease: string): Promise<void> {
    await this.sql.query(RELEASE, [scope.actor, scope.key, lease]);
  }

  /** Deletes expired records, `batchSize` at a time; returns how many. Call it periodically. */
  async pruneExpired(batchSize = 1_000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await this.sql.query(PRUNE_BATCH, [batchSize])).rowCount ?? 0;
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }
}
