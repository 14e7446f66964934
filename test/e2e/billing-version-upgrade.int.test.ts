import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

/*
 * The billing read model's version 2 keeps each subscription's latest invoice on its row
 * (rm_billing.subscriptions.latest_invoice). A database left by version 1 has no such
 * column: the service rebuilds the read model on its own when it starts, and GET answers
 * what it answered before, latest invoice included.
 */

let db: TestDatabase;
let service: RunningService | undefined;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase('e2e_billing_upgrade');
  token = await adminToken();
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const get = async (path: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${service!.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text() };
};

/** Bounded poll: a condition that never holds fails the test rather than hanging it. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  for (let waited = 0; waited <= timeoutMs; waited += 50) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const storedVersion = async (): Promise<number | undefined> =>
  (await db.pool.query<{ version: number }>(`SELECT version FROM projection_checkpoints WHERE name = 'billing'`)).rows[0]?.version;

describe('billing read model version 2', () => {
  it('a version-1 read model (no latest_invoice column) is rebuilt on start, and GET answers as before', async () => {
    service = await startTestService(db.url);
    const res = await fetch(`${service.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ customerId: 'cus_upgrade', price: { amount: 1_500, currency: 'usd', interval: 'month' }, paymentMethod: 'pm_card_visa' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const before = await until('the subscription active with its invoice', async () => {
      const got = await get(`/v1/subscriptions/${id}`);
      const body = JSON.parse(got.text) as { status?: string; latestInvoice?: string | null };
      return got.status === 200 && body.status === 'active' && typeof body.latestInvoice === 'string' ? got.text : undefined;
    });
    expect(await storedVersion()).toBe(2);
    await service.stop();
    service = undefined;

    // What version 1 left: the same rows without the column, recorded as version 1.
    await db.pool.query('ALTER TABLE rm_billing.subscriptions DROP COLUMN latest_invoice');
    await db.pool.query(`UPDATE projection_checkpoints SET version = 1 WHERE name = 'billing'`);

    service = await startTestService(db.url);
    await until('the rebuild to version 2', async () => ((await storedVersion()) === 2 ? true : undefined));
    const column = await db.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'rm_billing' AND table_name = 'subscriptions' AND column_name = 'latest_invoice'`,
    );
    expect(column.rowCount).toBe(1);
    const after = await until('GET after the rebuild', async () => {
      const got = await get(`/v1/subscriptions/${id}`);
      return got.status === 200 ? got.text : undefined;
    });
    expect(after).toBe(before);
  }, 60_000);
});
