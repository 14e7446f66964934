import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYMENTS_SCHEMA_SQL } from '../../src/projections/payments/payment-row.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/** The payments table as it was before refunds (issue 7), to prove the DDL upgrades it in place. */
const BEFORE_REFUNDS = `
CREATE TABLE payments (
  id text COLLATE "C" PRIMARY KEY,
  status text NOT NULL
    CONSTRAINT payments_status_known CHECK (status IN ('requires_capture', 'succeeded', 'canceled', 'failed')),
  customer_id text NOT NULL,
  amount bigint NOT NULL, amount_capturable bigint NOT NULL, amount_captured bigint NOT NULL, amount_released bigint NOT NULL,
  currency text NOT NULL, capture_method text NOT NULL, payment_method text NOT NULL, description text,
  metadata jsonb NOT NULL DEFAULT '{}', failure jsonb, cancellation_reason text,
  revision bigint NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
INSERT INTO payments VALUES ('pay_01JD0000000000000000000000', 'succeeded', 'cus_1', 100, 0, 100, 0, 'USD', 'automatic', 'pm_card_visa', null, '{}', null, null, 1, now(), now());
`;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('payments_refund_columns');
  await db.pool.query('CREATE SCHEMA rm_payments');
});
afterAll(async () => {
  await db?.drop();
});

const inSchema = async (sql: string): Promise<void> => {
  const client = await db.pool.connect();
  try {
    await client.query('SET search_path TO rm_payments');
    await client.query(sql);
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
};

describe('payments read model DDL and refunds', () => {
  it('upgrades a table made before refunds without a rebuild: amount_refunded 0, reservations {}, the new statuses allowed', async () => {
    await inSchema(BEFORE_REFUNDS);
    await inSchema(PAYMENTS_SCHEMA_SQL);
    // Idempotent: every start runs it again.
    await inSchema(PAYMENTS_SCHEMA_SQL);
    const row = await db.pool.query<{ amount_refunded: string; refund_reservations: unknown }>('SELECT amount_refunded, refund_reservations FROM rm_payments.payments');
    expect(row.rows).toEqual([{ amount_refunded: '0', refund_reservations: {} }]);
    await db.pool.query(`UPDATE rm_payments.payments SET status = 'partially_refunded', amount_refunded = 40`);
    await db.pool.query(`UPDATE rm_payments.payments SET status = 'refunded', amount_refunded = 100`);
    await expect(db.pool.query(`UPDATE rm_payments.payments SET amount_refunded = 101`)).rejects.toThrow(/payments_refunded_within_captured/);
    await expect(db.pool.query(`UPDATE rm_payments.payments SET status = 'paid'`)).rejects.toThrow(/payments_status_known/);
  });
});
