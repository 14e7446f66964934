import type pg from 'pg';
import type { SqlExecutor } from '../../../application/ports/sql.js';
import { position } from '../../../application/ports/position.js';
import type {
  BeforeCommit,
  DeliveryPageQuery,
  EndpointPageQuery,
  NewWebhookEndpoint,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointPatch,
  WebhookEndpointStore,
  WebhookSecret,
} from '../../../application/ports/webhooks.js';
import { webhookEventIdOf } from '../../webhooks/webhook-payloads.js';
import { inTransaction } from '../projections/transaction.js';
import { sqlExecutor } from '../sql-executor.js';

const ENDPOINT_COLUMNS = `id, url, events, description, status, disabled_reason, secrets, after_commit::text, after_prepare::text, failing_since, created_by, created_at, updated_at`;

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  secrets: { secret: string; expiresAt: string | null }[];
  after_commit: string;
  after_prepare: string;
  failing_since: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export const endpointOfRow = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  events: r.events,
  description: r.description,
  status: r.status,
  disabledReason: r.disabled_reason,
  secrets: r.secrets.map((s): WebhookSecret => ({ secret: s.secret, expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt) })),
  after: position(BigInt(r.after_commit), BigInt(r.after_prepare)),
  failingSince: r.failing_since,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const INSERT = `
INSERT INTO webhook_endpoints (id, url, events, description, status, secrets, after_commit, after_prepare, created_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'enabled', jsonb_build_array(jsonb_build_object('secret', $5::text, 'expiresAt', NULL)), $6, $7, $8, $9, $9)
RETURNING ${ENDPOINT_COLUMNS}`;

// Enabling forgets past failures (a fresh 3 days); disabling by request says so.
const UPDATE = `
UPDATE webhook_endpoints SET
  url = COALESCE($2, url),
  events = COALESCE($3, events),
  description = CASE WHEN $4 THEN $5 ELSE description END,
  status = CASE WHEN $6::boolean IS NULL THEN status WHEN $6 THEN 'disabled' ELSE 'enabled' END,
  disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason WHEN $6 THEN 'disabled by request' ELSE NULL END,
  failing_since = CASE WHEN $6 = false THEN NULL ELSE failing_since END,
  updated_at = $7
WHERE id = $1
RETURNING ${ENDPOINT_COLUMNS}`;

const ROTATE = `
UPDATE webhook_endpoints SET
  secrets = jsonb_build_array(jsonb_build_object('secret', $2::text, 'expiresAt', NULL)) || COALESCE((
    SELECT jsonb_agg(CASE WHEN s->'expiresAt' = 'null'::jsonb THEN jsonb_set(s, '{expiresAt}', to_jsonb($3::text)) ELSE s END ORDER BY n)
      FROM jsonb_array_elements(secrets) WITH ORDINALITY AS e(s, n)
     WHERE s->'expiresAt' = 'null'::jsonb OR (s->>'expiresAt')::timestamptz > $4
  ), '[]'::jsonb),
  updated_at = $4
WHERE id = $1
RETURNING ${ENDPOINT_COLUMNS}`;

const DELIVERY_COLUMNS = `d.seq, d.id, d.endpoint_id, d.event_id::text, d.event_type, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_latency_ms, d.last_error, d.created_at, d.updated_at,
  COALESCE((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'at', a.at, 'statusCode', a.status_code, 'latencyMs', a.latency_ms, 'error', a.error, 'responseBody', a.response_body) ORDER BY a.attempt)
              FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb) AS attempt_log`;

interface DeliveryRow {
  seq: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: WebhookDelivery['status'];
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  attempt_log: { attempt: number; at: string; statusCode: number | null; latencyMs: number; error: string | null; responseBody: string | null }[];
}


const deliveryOfRow = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: webhookEventIdOf(r.event_id),
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatusCode: r.last_status_code,
  lastLatencyMs: r.last_latency_ms,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  attemptLog: r.attempt_log.map((a): WebhookAttempt => ({ ...a, at: new Date(a.at) })),
});

/*
 * A change with a BeforeCommit hook (the audit record) runs in a transaction that commits
 * only after the hook returned, as API keys do: the row stays locked while the hook
 * appends to the event store on another connection (or elsewhere), so such a change holds
 * two pooled connections for a moment. If the commit fails after the append, the audit
 * log holds a change that did not happen (and the caller got an error); never the reverse.
 */
export class PostgresWebhookEndpoints implements WebhookEndpointStore {
  private readonly sql: SqlExecutor;

  constructor(private readonly pool: pg.Pool) {
    this.sql = sqlExecutor(pool);
  }

  async create(e: NewWebhookEndpoint, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint> {
    const created = await this.change(INSERT, [e.id, e.url, e.events, e.description, e.secret, e.after.commit.toString(), e.after.prepare.toString(), e.createdBy, e.at], beforeCommit);
    if (!created) throw new Error(`webhook endpoint ${e.id}: the insert returned no row`);
    return created;
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    const { rows } = await this.sql.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    return rows[0] ? endpointOfRow(rows[0]) : undefined;
  }

  async list(q: EndpointPageQuery): Promise<WebhookEndpoint[]> {
    const { rows } = await this.sql.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [q.startingAfter ?? null, q.limit],
    );
    return rows.map(endpointOfRow);
  }

  update(id: string, p: WebhookEndpointPatch, at: Date, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint | undefined> {
    return this.change(UPDATE, [id, p.url ?? null, p.events ?? null, p.description !== undefined, p.description ?? null, p.disabled ?? null, at], beforeCommit);
  }

  rotateSecret(id: string, secret: string, oldExpiresAt: Date, at: Date, beforeCommit?: BeforeCommit): Promise<WebhookEndpoint | undefined> {
    return this.change(ROTATE, [id, secret, oldExpiresAt.toISOString(), at], beforeCommit);
  }

  async delete(id: string, beforeCommit?: BeforeCommit): Promise<boolean> {
    return (await this.change(`DELETE FROM webhook_endpoints WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`, [id], beforeCommit)) !== undefined;
  }

  /** One statement returning the endpoint's row; with a hook, in a transaction committed after it. */
  private async change(text: string, params: readonly unknown[], beforeCommit: BeforeCommit | undefined): Promise<WebhookEndpoint | undefined> {
    if (!beforeCommit) {
      const { rows } = await this.sql.query<EndpointRow>(text, params);
      return rows[0] ? endpointOfRow(rows[0]) : undefined;
    }
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<EndpointRow>(text, [...params]);
      const row = rows[0];
      if (!row) return { commit: false, value: undefined };
      const endpoint = endpointOfRow(row);
      await beforeCommit(endpoint);
      return { commit: true, value: endpoint };
    });
  }

  async deliveries(q: DeliveryPageQuery): Promise<WebhookDelivery[]> {
    const { rows } = await this.sql.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
        WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.seq < (SELECT seq FROM webhook_deliveries WHERE id = $2))
        ORDER BY d.seq DESC LIMIT $3`,
      [q.endpointId, q.startingAfter ?? null, q.limit],
    );
    return rows.map(deliveryOfRow);
  }

  async delivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | undefined> {
    const { rows } = await this.sql.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND d.id = $2`, [endpointId, deliveryId]);
    return rows[0] ? deliveryOfRow(rows[0]) : undefined;
  }
}
