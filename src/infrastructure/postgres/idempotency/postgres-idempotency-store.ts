import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../../application/ports/sql.js';
import type { IdempotencyBegin, IdempotencyScope, IdempotencyStore, StoredResponse } from '../../../application/ports/idempotency-store.js';

export interface IdempotencyStoreOptions {
  /**
   * How long a claim or a renewal holds the key. The holder renews while it runs, so this
   * only bounds how long a key stays locked after its holder died (kill -9, lost database).
   */
  readonly leaseMs: number;
  /** How often a running holder renews its lease; well under `leaseMs`, so one late renewal does not lose it. */
  readonly renewEveryMs: number;
  /** How long a key is remembered after its first use. */
  readonly retentionMs: number;
}

const DEFAULT_LEASE_MS = 5_000;
/** Renewing at 30 % of the lease leaves two more chances before it lapses. */
const RENEW_FRACTION = 0.3;

export const DEFAULT_IDEMPOTENCY_OPTIONS: IdempotencyStoreOptions = Object.freeze({
  leaseMs: DEFAULT_LEASE_MS,
  renewEveryMs: Math.floor(DEFAULT_LEASE_MS * RENEW_FRACTION),
  retentionMs: 24 * 60 * 60 * 1000,
});

/*
 * A claim that finds no row to claim and then no row to look at has lost a race with
 * pruning (the row expired and was deleted in between). Twice in a row is already absurd;
 * past this the caller hears `contended` rather than the store looping.
 */
const MAX_CLAIM_ATTEMPTS = 3;
/** One pruning run deletes at most this many batches; the next run goes on from there. */
export const MAX_PRUNE_BATCHES = 100;

/** How a pruning run ended: everything expired is gone, or it stopped at MAX_PRUNE_BATCHES with more left. */
export type PruneResult =
  | { readonly kind: 'done'; readonly deleted: number }
  | { readonly kind: 'batch_limit_reached'; readonly deleted: number };

/*
 * Claims the key in one statement. A new key is inserted. An existing one is taken over
 * only when it has expired (then it starts afresh) or when it is in flight with a lapsed
 * lease and the same request (a crashed or released attempt: it keeps its created_at, so
 * the retry derives the same payment and event ids). Otherwise nothing is returned and
 * the caller looks at the row to say why. A row whose created_at is this statement's now()
 * was inserted or started afresh: its first attempt. Timestamps are the database's, so every
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
  RETURNING created_at, created_at = now() AS first_attempt`;

/* The lease's remaining time comes from the database's clock, like the lease itself. */
const INSPECT = `
  SELECT request_hash, state, response_status, response_headers, response_body,
         GREATEST(0, CEIL(EXTRACT(EPOCH FROM (locked_until - now())) * 1000))::int AS lease_left_ms
  FROM idempotency_keys
  WHERE actor = $1 AND key = $2 AND expires_at > now()`;

const COMPLETE = `
  UPDATE idempotency_keys
  SET state = 'completed', response_status = $4, response_headers = $5, response_body = $6,
      completed_at = now(), lease_token = NULL, locked_until = NULL
  WHERE actor = $1 AND key = $2 AND lease_token = $3 AND state = 'in_flight'`;

const RENEW = `
  UPDATE idempotency_keys
  SET locked_until = now() + $4 * interval '1 millisecond'
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
  /** Null for completed records. */
  readonly lease_left_ms: number | null;
}

/** Idempotency-Key records in PostgreSQL (table from `idempotencyMigrations`). */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly options: IdempotencyStoreOptions;

  constructor(
    private readonly sql: SqlExecutor,
    options: Partial<IdempotencyStoreOptions> = {},
  ) {
    const leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_OPTIONS.leaseMs;
    this.options = {
      ...DEFAULT_IDEMPOTENCY_OPTIONS,
      renewEveryMs: Math.max(1, Math.floor(leaseMs * RENEW_FRACTION)),
      ...options,
    };
    if (this.options.renewEveryMs >= this.options.leaseMs) throw new Error('renewEveryMs must be shorter than leaseMs');
  }

  get renewEveryMs(): number {
    return this.options.renewEveryMs;
  }

  async begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyBegin> {
    // A row can vanish between the claim and the look (pruned the instant it expired): claim again.
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      const lease = randomUUID();
      const claimed = await this.sql.query<{ created_at: Date; first_attempt: boolean }>(CLAIM, [
        scope.actor,
        scope.key,
        requestHash,
        lease,
        this.options.leaseMs,
        this.options.retentionMs,
      ]);
      const row = claimed.rows[0];
      if (row) return { kind: 'started', firstSeenAt: row.created_at, lease, firstAttempt: row.first_attempt };

      const existing = (await this.sql.query<InspectRow>(INSPECT, [scope.actor, scope.key])).rows[0];
      if (!existing) continue;
      if (existing.request_hash !== requestHash) return { kind: 'mismatch' };
      if (existing.state === 'in_flight') return { kind: 'in_flight', leaseLeftMs: existing.lease_left_ms ?? 0 };
      if (existing.response_status === null || existing.response_headers === null || existing.response_body === null) {
        throw new Error('completed idempotency record without a response');
      }
      return {
        kind: 'replay',
        response: { status: existing.response_status, headers: existing.response_headers, body: existing.response_body },
      };
    }
    return { kind: 'contended' };
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

  async renew(scope: IdempotencyScope, lease: string): Promise<boolean> {
    const renewed = await this.sql.query(RENEW, [scope.actor, scope.key, lease, this.options.leaseMs]);
    return (renewed.rowCount ?? 0) > 0;
  }

  async release(scope: IdempotencyScope, lease: string): Promise<void> {
    await this.sql.query(RELEASE, [scope.actor, scope.key, lease]);
  }

  /** Deletes expired records, `batchSize` at a time, at most MAX_PRUNE_BATCHES batches. Call it periodically. */
  async pruneExpired(batchSize = 1_000): Promise<PruneResult> {
    let deleted = 0;
    for (let batch = 1; batch <= MAX_PRUNE_BATCHES; batch++) {
      const count = (await this.sql.query(PRUNE_BATCH, [batchSize])).rowCount ?? 0;
      deleted += count;
      if (count < batchSize) return { kind: 'done', deleted };
    }
    return { kind: 'batch_limit_reached', deleted };
  }
}
