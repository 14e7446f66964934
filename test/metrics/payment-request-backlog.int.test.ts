import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LedgerMetrics } from '../../src/infrastructure/metrics/metrics.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { projectionSchema } from '../../src/projections/projection.js';
import { PAYMENT_INTENTS_PROJECTION, paymentIntentsProjection } from '../../src/projections/payment-intents/payment-intents-projection.js';
import { PAYMENT_REQUEST_COUNT_CAP, readPaymentRequestBacklog } from '../../src/projections/payment-intents/payment-request-backlog.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { valueOf } from './support.js';

/* The payment request backlog gauges read from the payment_intents table in PostgreSQL. */

let db: TestDatabase;
const schema = projectionSchema(PAYMENT_INTENTS_PROJECTION);
const table = `${schema}.payment_intents`;

beforeAll(async () => {
  db = await createTestDatabase('payment_request_backlog');
  // The table as the projection store creates it: its schemaSql run in the projection's schema.
  const client = await db.pool.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    await client.query(paymentIntentsProjection.schemaSql);
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.pool.query(`TRUNCATE ${table}`);
});

/** `count` pending requests, the oldest `oldestSecondsAgo` seconds old by the database's clock. */
async function pending(count: number, oldestSecondsAgo: number): Promise<void> {
  await db.pool.query(
    `INSERT INTO ${table} (payment_id, request_event_id, operation, requested_at, next_attempt_at)
     SELECT 'pay_' || i, 'ev_' || i, 'create', now() - make_interval(secs => $2::double precision * i / $1), now()
       FROM generate_series(1, $1) AS i`,
    [count, oldestSecondsAgo],
  );
}

describe('ledger_payment_requests_pending and ledger_payment_request_oldest_age_seconds', () => {
  it('are 0 with nothing waiting, then count the requests and age the oldest, read at every scrape', async () => {
    const metrics = new LedgerMetrics({ defaultMetrics: false, projectionReadReuseMs: 0 });
    metrics.watchPaymentRequests(() => readPaymentRequestBacklog(sqlExecutor(db.pool)));
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(0);
    expect(await valueOf(metrics, 'ledger_payment_request_oldest_age_seconds')).toBe(0);
    await pending(3, 90);
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(3);
    const age = await valueOf(metrics, 'ledger_payment_request_oldest_age_seconds');
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);
    // The completer answers them: the rows go, and so does the backlog.
    await db.pool.query(`DELETE FROM ${table}`);
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(0);
    expect(await valueOf(metrics, 'ledger_payment_request_oldest_age_seconds')).toBe(0);
  });

  it('counting stops at the cap; the oldest is still the oldest, found through the requested_at index', async () => {
    await pending(PAYMENT_REQUEST_COUNT_CAP + 5, 3_600);
    const backlog = await readPaymentRequestBacklog(sqlExecutor(db.pool));
    expect(backlog.pending).toBe(PAYMENT_REQUEST_COUNT_CAP);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(3_600);
    await db.pool.query(`ANALYZE ${table}`);
    const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT min(requested_at) FROM ${table}`);
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('payment_intents_requested');
  });
});
