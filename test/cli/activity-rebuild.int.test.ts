import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { CLI_TIMEOUT_MS, ledger } from './run-ledger.js';

let db: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('cli_activity');
  env = { DATABASE_URL: db.url };
  expect((await ledger(['migrate'], env)).code).toBe(0);
  const store = new PostgresEventStore(db.pool);
  await store.append('payment-pay_01JD0000000000000000000042', [{
    id: randomUUID(),
    type: 'PaymentAuthorized',
    data: {
      paymentId: 'pay_01JD0000000000000000000042', customerId: 'cus_cli', amount: 4_200, currency: 'EUR', paymentMethod: 'pm_card_visa',
      captureMethod: 'manual', providerPaymentId: 'pi_1', description: null, metadata: {},
    },
    metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
  }], 'no_stream');
  await store.close();
}, CLI_TIMEOUT_MS);

afterAll(async () => {
  await db?.drop();
});

describe('ledger projections rebuild activity', () => {
  it('replays the log into a fresh generation, switches to it and records the rebuild', { timeout: CLI_TIMEOUT_MS }, async () => {
    const run = await ledger(['projections', 'rebuild', 'activity'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'activity', generation: 2, events: 1, entries: 1 });
    const live = await db.pool.query<{ customer_id: string; summary: string }>(
      `SELECT customer_id, entry->>'summary' AS summary FROM activity_entries WHERE generation = (SELECT live FROM activity_feed_state)`,
    );
    expect(live.rows).toEqual([{ customer_id: 'cus_cli', summary: 'Payment of 42.00 EUR authorized' }]);
    const audit = await db.pool.query<{ type: string }>(`SELECT event_type AS type FROM events WHERE stream_id LIKE 'audit-%'`);
    expect(audit.rows.map((r) => r.type)).toEqual(['ProjectionRebuilt']);
  });
});
