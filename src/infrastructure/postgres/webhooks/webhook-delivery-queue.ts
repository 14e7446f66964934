import type { SqlExecutor } from '../../../application/ports/sql.js';
import type { WebhookSecret } from '../../../application/ports/webhooks.js';
import { endpointOfRow } from './postgres-webhook-endpoints.js';
import type { WebhookEndpoint } from '../../../application/ports/webhooks.js';

/*
 * The sender's side of the deliveries table (schema.ts). Ordering per endpoint: only an
 * endpoint's oldest pending delivery (lowest seq) may be claimed, so while one is in
 * flight or waiting for its retry, the newer ones wait behind it; a delivery given up
 * (`failed`) or done no longer blocks. Endpoints are independent: a slow or failing one
 * holds back only itself. A claim is a lease (a random token and an expiry) taken under
 * FOR UPDATE SKIP LOCKED, so concurrent senders never take the same delivery, and the
 * claim of an instance that died lapses at its expiry and the delivery is sent again.
 */

export interface ClaimedDelivery {
  readonly id: string;
  readonly endpointId: string;
  readonly url: string;
  readonly secrets: readonly WebhookSecret[];
  readonly payload: string;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly firstAttemptAt: Date | null;
  readonly status: 'pending' | 'succeeded' | 'failed';
}

// A claim lost to a PostgreSQL crash only means the delivery may be sent twice, so it
// commits without waiting for the WAL flush, as RECORD does.
// The lease conditions sit on the locking scan of webhook_deliveries itself, so they are
// re-checked against the newest row version when a concurrent claimer committed first.
const CLAIM_DUE = `
WITH heads AS (
  SELECT h.id
    FROM webhook_endpoints e
    CROSS JOIN LATERAL (
      SELECT d.id FROM webhook_deliveries d
       WHERE d.endpoint_id = e.id AND d.status = 'pending'
       ORDER BY d.seq LIMIT 1
    ) h
   WHERE e.status = 'enabled'
), due AS (
  SELECT d.id FROM webhook_deliveries d
   WHERE d.id IN (SELECT id FROM heads)
     AND d.status = 'pending' AND d.next_attempt_at <= $1
     AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
   ORDER BY d.next_attempt_at, d.seq
   LIMIT $2
   FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET lease_holder = $3, lease_expires_at = $4
  FROM due, webhook_endpoints e, (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
 WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.endpoint_id, e.url, e.secrets, d.payload, d.attempts, d.first_attempt_at, d.status`;

// A manual re-send: any status, as long as nobody else holds it right now.
const CLAIM_ONE = `
UPDATE webhook_deliveries d SET lease_holder = $3, lease_expires_at = $4
  FROM webhook_endpoints e
 WHERE d.id = $2 AND d.endpoint_id = $5 AND e.id = d.endpoint_id
   AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)
RETURNING d.id, d.endpoint_id, e.url, e.secrets, d.payload, d.attempts, d.first_attempt_at, d.status`;

interface ClaimRow {
  id: string;
  endpoint_id: string;
  url: string;
  secrets: { secret: string; expiresAt: string | null }[];
  payload: string;
  attempts: number;
  first_attempt_at: Date | null;
  status: ClaimedDelivery['status'];
}

const claimedOf = (r: ClaimRow): ClaimedDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  url: r.url,
  secrets: r.secrets.map((s) => ({ secret: s.secret, expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt) })),
  payload: r.payload,
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  status: r.status,
});

export interface AttemptRecord {
  readonly deliveryId: string;
  readonly leaseToken: string;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  readonly responseBody: string | null;
  /** The delivery's status after this attempt. */
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly nextAttemptAt: Date | null;
  /** A failure disables the endpoint if every attempt failed since at least this time. */
  readonly disableIfFailingSince: Date;
  readonly disableReason: string;
  /** After a success, claim the endpoint's next delivery too, leased until then. */
  readonly chainUntil?: Date | undefined;
}

// One round trip: the delivery (only while this claim still holds it), its attempt row,
// and the endpoint's failure streak (cleared by a success, started by a failure, and
// turned into `disabled` once it has lasted long enough). After a success, when asked
// ($13), it also claims the endpoint's next delivery under the same lease, if that one is
// due and free: the endpoint's next POST then needs no claim of its own (one statement
// per delivery instead of two). Only the very next pending one (lowest seq): if that is
// not free, nothing is chained, never a later one (that would break the order).
//
// It commits without waiting for the WAL flush (synchronous_commit off, this transaction
// only): if PostgreSQL itself crashes, the last few outcomes may be lost, and those
// deliveries are simply sent again (at-least-once allows it; receivers dedupe by event
// id). The deliveries themselves are written by the fan-out with a normal, durable commit.
const RECORD = `
WITH d AS (
  UPDATE webhook_deliveries SET
    status = $3, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $4),
    next_attempt_at = $5, lease_holder = NULL, lease_expires_at = NULL,
    last_status_code = $6, last_latency_ms = $7, last_error = $8, updated_at = $4
  WHERE id = $1 AND lease_holder = $2
  RETURNING id, endpoint_id, attempts, seq
), a AS (
  INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, latency_ms, error, response_body)
  SELECT id, attempts, $4, $6, $7, $8, $9 FROM d
), ep AS (
  UPDATE webhook_endpoints e SET
    failing_since = CASE WHEN $10 THEN NULL ELSE COALESCE(e.failing_since, $4) END,
    status = CASE WHEN NOT $10 AND COALESCE(e.failing_since, $4) <= $11 THEN 'disabled' ELSE e.status END,
    disabled_reason = CASE WHEN NOT $10 AND COALESCE(e.failing_since, $4) <= $11 AND e.status = 'enabled' THEN $12 ELSE e.disabled_reason END,
    updated_at = CASE WHEN NOT $10 AND COALESCE(e.failing_since, $4) <= $11 AND e.status = 'enabled' THEN $4 ELSE e.updated_at END
    -- A success on an endpoint that was not failing changes nothing: no write.
    FROM d WHERE e.id = d.endpoint_id AND (NOT $10 OR e.failing_since IS NOT NULL)
  RETURNING e.id
), nxt AS (
  SELECT n.id FROM d, webhook_deliveries n
   WHERE $13 AND $10 AND n.endpoint_id = d.endpoint_id AND n.status = 'pending' AND n.seq > d.seq
   ORDER BY n.seq LIMIT 1
), claimed AS (
  UPDATE webhook_deliveries x SET lease_holder = $2, lease_expires_at = $14
    FROM nxt, webhook_endpoints e
   WHERE x.id = nxt.id AND e.id = x.endpoint_id AND e.status = 'enabled'
     AND x.status = 'pending' AND x.next_attempt_at <= $4 AND (x.lease_expires_at IS NULL OR x.lease_expires_at <= $4)
  RETURNING x.id, x.endpoint_id, e.url, e.secrets, x.payload, x.attempts, x.first_attempt_at, x.status
)
SELECT (SELECT count(*) FROM d)::int AS recorded, c.* FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed LEFT JOIN claimed c ON true`;

// In log order (`n`, the position in the batch), so seq follows the log; an endpoint deleted meanwhile gets nothing.
const FAN_OUT = `
INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
SELECT r.id, r.endpoint_id, r.event_id, r.event_type, r.payload, 'pending', $2, $2, $2
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, endpoint_id text, event_id uuid, event_type text, payload text, n bigint)
 WHERE EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = r.endpoint_id AND e.status = 'enabled')
 ORDER BY r.n
ON CONFLICT (endpoint_id, event_id) DO NOTHING`;

const ENDPOINT_COLUMNS = `id, url, events, description, status, disabled_reason, secrets, after_commit::text, after_prepare::text, failing_since, created_by, created_at, updated_at`;

export interface NewDelivery {
  readonly id: string;
  readonly endpoint_id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly payload: string;
}

export class WebhookDeliveryQueue {
  constructor(private readonly sql: SqlExecutor) {}

  async claimDue(now: Date, limit: number, leaseToken: string, leaseUntil: Date): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    const { rows } = await this.sql.query<ClaimRow>(CLAIM_DUE, [now, limit, leaseToken, leaseUntil]);
    return rows.map(claimedOf);
  }

  async claimOne(endpointId: string, deliveryId: string, now: Date, leaseToken: string, leaseUntil: Date): Promise<ClaimedDelivery | undefined> {
    const { rows } = await this.sql.query<ClaimRow>(CLAIM_ONE, [now, deliveryId, leaseToken, leaseUntil, endpointId]);
    return rows[0] ? claimedOf(rows[0]) : undefined;
  }

  /**
   * `recorded` false when the claim had lapsed and someone else took the delivery (nothing
   * was written); `next`: the endpoint's next delivery, claimed under the same lease, when
   * `r.chainUntil` asked for it and it was due and free.
   */
  async record(r: AttemptRecord): Promise<{ readonly recorded: boolean; readonly next: ClaimedDelivery | undefined }> {
    const succeeded = r.status === 'succeeded';
    const { rows } = await this.sql.query<{ recorded: number } & Partial<ClaimRow>>(RECORD, [
      r.deliveryId,
      r.leaseToken,
      r.status,
      r.at,
      r.nextAttemptAt,
      r.statusCode,
      r.latencyMs,
      r.error,
      r.responseBody,
      succeeded,
      r.disableIfFailingSince,
      r.disableReason,
      r.chainUntil !== undefined,
      r.chainUntil ?? null,
    ]);
    const row = rows[0];
    return { recorded: (row?.recorded ?? 0) > 0, next: row?.id ? claimedOf(row as ClaimRow) : undefined };
  }

  /** Endpoints the fan-out may deliver to. */
  async enabledEndpoints(): Promise<WebhookEndpoint[]> {
    const { rows } = await this.sql.query<Parameters<typeof endpointOfRow>[0]>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE status = 'enabled'`);
    return rows.map(endpointOfRow);
  }
}

/** Inserts one batch's deliveries; run inside the fan-out's checkpoint transaction. */
export async function insertDeliveries(sql: SqlExecutor, deliveries: readonly NewDelivery[], at: Date): Promise<number> {
  if (deliveries.length === 0) return 0;
  const { rowCount } = await sql.query(FAN_OUT, [JSON.stringify(deliveries.map((d, n) => ({ ...d, n }))), at]);
  return rowCount ?? 0;
}
