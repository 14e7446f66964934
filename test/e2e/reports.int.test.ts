import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { adminToken, startTestService } from '../support/service.js';

/*
 * The whole service as `ledger serve` wires it: payments made over HTTP reach the revenue
 * report through the reports projection that the composition root registers, and
 * `minPosition` waits for that projection.
 */

let db: TestDatabase;
let service: RunningService;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase('e2e_reports');
  service = await startTestService(db.url);
  token = await adminToken();
});

afterAll(async () => {
  await service?.stop();
  await db?.drop();
});

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('revenue report, end to end', () => {
  it('counts captures made over HTTP on their UTC day, once the projection has them', async () => {
    const before = new Date().toISOString().slice(0, 10);
    const automatic = await call('POST', '/v1/payments', { customerId: 'cus_1', amount: 1_999, currency: 'USD', paymentMethod: 'pm_card_visa' });
    expect(automatic.status).toBe(201);
    const manual = await call('POST', '/v1/payments', { customerId: 'cus_2', amount: 5_000, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual' });
    const { id } = (await manual.json()) as { id: string };
    const captured = await call('POST', `/v1/payments/${id}/capture`, { amount: 1_500 });
    expect(captured.status).toBe(200);
    const position = captured.headers.get('ledger-position')!;
    const after = new Date().toISOString().slice(0, 10);

    const res = await call('GET', `/v1/reports/revenue?from=${before}&to=${after}&currency=usd&minPosition=${position}`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { period: string; gross: number; payments: number }[] };
    const total = data.reduce((sum, row) => ({ gross: sum.gross + row.gross, payments: sum.payments + row.payments }), { gross: 0, payments: 0 });
    expect(total).toEqual({ gross: 1_999 + 1_500, payments: 2 });

    const projections = await call('GET', '/v1/admin/projections');
    const { data: statuses } = (await projections.json()) as { data: { name: string; error: string | null }[] };
    expect(statuses).toContainEqual(expect.objectContaining({ name: 'reports', error: null }));
  });
});
