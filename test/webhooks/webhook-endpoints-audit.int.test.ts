import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/application/audit/audit-log.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { WebhookEndpoints } from '../../src/application/webhooks/webhook-endpoints.js';
import { PostgresWebhookEndpoints } from '../../src/infrastructure/postgres/webhooks/postgres-webhook-endpoints.js';
import { SystemClock } from '../../src/infrastructure/system/system-clock.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { mintToken } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * Every change to a webhook endpoint through /v1/webhook-endpoints is in the audit log:
 * who (the credential's actor), which endpoint, what changed, under the request's id;
 * never a signing secret, and never the URL's query string.
 */

let db: TestDatabase;
let service: RunningService;
let eventStore: PostgresEventStore;
let manager: string;

beforeAll(async () => {
  db = await createTestDatabase('webhooks_audit');
  service = await startTestService(db.url, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', PROJECTIONS_ENABLED: 'false' });
  eventStore = new PostgresEventStore(db.pool);
  manager = await mintToken({ scopes: ['webhooks:manage'], sub: 'hooks-admin' });
});

afterAll(async () => {
  await service?.stop();
  await eventStore?.close();
  await db?.drop();
});

async function call(method: string, path: string, requestId: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${manager}`, 'x-request-id': requestId, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const auditOf = async (id: string): Promise<readonly RecordedEvent[]> => (await eventStore.readStream(`audit-webhookendpoint-${id}`)).events;

describe('webhook endpoint changes in the audit log', () => {
  it('records create, update, rotate-secret and delete with actor, endpoint and changes, and no secret', async () => {
    const created = await call('POST', '/v1/webhook-endpoints', 'req-create', { url: 'http://127.0.0.1:9/hooks?token=receiver-token-123', events: ['payment.*'], description: 'orders' });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const secrets = [String(created.body.secret)];

    expect((await call('PATCH', `/v1/webhook-endpoints/${id}`, 'req-update', { events: ['refund.*', 'refund.*'], disabled: true })).status).toBe(200);
    const rotated = await call('POST', `/v1/webhook-endpoints/${id}/rotate-secret`, 'req-rotate');
    expect(rotated.status).toBe(200);
    secrets.push(String(rotated.body.secret));
    const expiry = (rotated.body.secretRotation as { previousSecretExpiresAt: string }).previousSecretExpiresAt;
    expect((await call('DELETE', `/v1/webhook-endpoints/${id}`, 'req-delete')).status).toBe(200);

    const events = await auditOf(id);
    expect(events.map((e) => ({ type: e.type, data: e.data, actor: e.metadata.actor, correlationId: e.metadata.correlationId }))).toEqual([
      { type: 'WebhookEndpointCreated', data: { endpointId: id, url: 'http://127.0.0.1:9/hooks?…', events: ['payment.*'], description: 'orders' }, actor: 'jwt:hooks-admin', correlationId: 'req-create' },
      { type: 'WebhookEndpointUpdated', data: { endpointId: id, changes: { events: ['refund.*'], disabled: true } }, actor: 'jwt:hooks-admin', correlationId: 'req-update' },
      { type: 'WebhookEndpointSecretRotated', data: { endpointId: id, previousSecretExpiresAt: expiry }, actor: 'jwt:hooks-admin', correlationId: 'req-rotate' },
      { type: 'WebhookEndpointDeleted', data: { endpointId: id, url: 'http://127.0.0.1:9/hooks?…' }, actor: 'jwt:hooks-admin', correlationId: 'req-delete' },
    ]);
    const written = JSON.stringify(events.map((e) => [e.data, e.metadata]));
    for (const secret of secrets) expect(written).not.toContain(secret);
    expect(written).not.toContain('receiver-token-123');
  });

  it('records nothing for a change that did not happen', async () => {
    expect((await call('PATCH', '/v1/webhook-endpoints/we_missing', 'req-missing', { disabled: true })).status).toBe(404);
    expect((await call('POST', '/v1/webhook-endpoints/we_missing/rotate-secret', 'req-missing')).status).toBe(404);
    expect((await call('DELETE', '/v1/webhook-endpoints/we_missing', 'req-missing')).status).toBe(404);
    expect(await auditOf('we_missing')).toEqual([]);
  });
});

describe('a webhook endpoint change whose audit record cannot be written', () => {
  it('does not happen: the change rolls back and the caller gets the error', async () => {
    let auditFails = false;
    const audit = new AuditLog(eventStore, new SystemClock(), new SystemIdGenerator());
    const store = new PostgresWebhookEndpoints(db.pool);
    const endpoints = new WebhookEndpoints({
      store,
      eventStore,
      urlPolicy: () => Promise.resolve(undefined),
      newSecret: () => `whsec_${Math.random().toString(36).slice(2)}`,
      ids: new SystemIdGenerator(),
      clock: new SystemClock(),
      audit: {
        record: (event, actor, correlationId) => (auditFails ? Promise.reject(new Error('event store unavailable')) : audit.record(event, actor, correlationId)),
      },
    });
    const by = { actor: 'test', correlationId: 'unaudited' };
    const before = (await store.list({ limit: 100 })).length;

    auditFails = true;
    await expect(endpoints.create({ url: 'http://127.0.0.1:9/x', events: ['payment.*'] }, by)).rejects.toThrow('event store unavailable');
    expect((await store.list({ limit: 100 })).length).toBe(before);

    auditFails = false;
    const created = await endpoints.create({ url: 'http://127.0.0.1:9/x', events: ['payment.*'] }, by);
    if (!created.ok) throw new Error(JSON.stringify(created.error));
    const id = created.value.endpoint.id;

    auditFails = true;
    await expect(endpoints.update(id, { url: 'http://127.0.0.1:9/y' }, by)).rejects.toThrow('event store unavailable');
    await expect(endpoints.rotateSecret(id, by)).rejects.toThrow('event store unavailable');
    await expect(endpoints.delete(id, by)).rejects.toThrow('event store unavailable');
    const after = await store.get(id);
    expect(after?.url).toBe('http://127.0.0.1:9/x');
    expect(after?.secrets).toEqual(created.value.endpoint.secrets);
  });
});
