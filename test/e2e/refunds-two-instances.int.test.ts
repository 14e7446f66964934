import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

let db: TestDatabase;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  db = await createTestDatabase('refunds_two_instances');
  [a, b] = await Promise.all([startTestService(db.url), startTestService(db.url)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

const post = async (service: RunningService, path: string, body: unknown) =>
  fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await authHeader()) }, body: JSON.stringify(body) });

const pay = async (paymentMethod: string): Promise<string> => {
  const res = await post(a, '/v1/payments', { customerId: 'cus_1', amount: 10_000, currency: 'USD', paymentMethod });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

const getPayment = async (service: RunningService, id: string, minPosition?: string) => {
  const res = await fetch(`${service.url}/v1/payments/${id}${minPosition ? `?minPosition=${minPosition}` : ''}`, { headers: await authHeader() });
  expect(res.status).toBe(200);
  return (await res.json()) as { amountRefunded: number; status: string };
};

/** The last of some Ledger-Positions, to read our own writes. */
const lastOf = (positions: string[]): string =>
  positions.sort((x, y) => {
    const [xc, xp] = x.split('.').map(BigInt) as [bigint, bigint];
    const [yc, yp] = y.split('.').map(BigInt) as [bigint, bigint];
    return xc === yc ? Number(xp - yp) : Number(xc - yc);
  }).at(-1)!;

describe('refunds on two service instances over one database', () => {
  it('20 concurrent refunds through both instances never accept more than captured; the read model agrees', async () => {
    const id = await pay('pm_card_visa');
    const amounts = Array.from({ length: 20 }, () => 200 + Math.floor(Math.random() * 1_000));
    const answers = await Promise.all(amounts.map((amount, i) => post(i % 2 === 0 ? a : b, '/v1/refunds', { paymentId: id, amount })));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { amount: number; status: string; code?: string }[];
    const accepted = bodies.filter((_, i) => answers[i]!.status === 201);
    for (const [i, r] of answers.entries()) if (r.status !== 201) expect(['amount_exceeds_refundable', 'concurrency_conflict']).toContain(bodies[i]!.code);
    const sum = accepted.reduce((s, r) => s + r.amount, 0);
    expect(sum).toBeLessThanOrEqual(10_000);
    expect(accepted.every((r) => r.status === 'succeeded')).toBe(true);
    const last = lastOf(answers.filter((r) => r.status === 201).map((r) => r.headers.get('ledger-position')!));
    for (const s of [a, b]) expect((await getPayment(s, id, last)).amountRefunded).toBe(sum);
  });

  it('pm_card_refundFail: POST answers pending; the service fails it asynchronously and releases the reservation', async () => {
    const id = await pay('pm_card_refundFail');
    const res = await post(b, '/v1/refunds', { paymentId: id, amount: 10_000 });
    expect(res.status).toBe(201);
    const refund = (await res.json()) as { id: string; status: string };
    expect(refund.status).toBe('pending');
    // The process manager waits its grace (5 s), asks the processor again and records the failure.
    const deadline = Date.now() + 20_000;
    let failed: { data: { failureReason: string } } | undefined;
    while (Date.now() < deadline && !failed) {
      const rows = await db.pool.query<{ data: { failureReason: string } }>(`SELECT data FROM events WHERE event_type = 'RefundFailed' AND data->>'refundId' = $1`, [refund.id]);
      failed = rows.rows[0];
      if (!failed) await new Promise((r) => setTimeout(r, 200));
    }
    expect(failed?.data.failureReason).toBe('expired_or_canceled_card');
    // Released: the whole amount is refundable again (this refund then stays pending too).
    const deadline2 = Date.now() + 10_000;
    let again: Response | undefined;
    while (Date.now() < deadline2) {
      again = await post(a, '/v1/refunds', { paymentId: id, amount: 10_000 });
      if (again.status === 201) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(again?.status).toBe(201);
    expect((await getPayment(a, id)).amountRefunded).toBe(0);
  }, 40_000);
});
