import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizeRequest, AuthorizeResult, PaymentProvider, ProviderActionResult } from '../../src/application/ports/payment-provider.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader, startTestService } from '../support/service.js';

/*
 * Intent first, through the whole service on PostgreSQL (the issue: "fail the append after a
 * successful provider call"). A trigger on `events` makes the append of an outcome fail
 * while armed: the processor has answered (and, for a real one, moved money), our append
 * does not happen. The request is in the log, so a same-key retry completes the payment
 * with the processor key it recorded, and with no retry the completer does.
 */

/** The simulated processor with a memory of the keys it was asked under: one key, one charge. */
class RecordingProvider implements PaymentProvider {
  readonly name = 'recording';
  readonly keys: string[] = [];
  readonly charged = new Set<string>();
  private readonly inner = new SimulatedPaymentProvider();
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.keys.push(request.idempotencyKey);
    this.charged.add(request.idempotencyKey);
    return this.inner.authorize(request);
  }
  capture(request: { providerPaymentId: string; amount: number; currency: string; idempotencyKey: string }): Promise<ProviderActionResult> {
    this.keys.push(request.idempotencyKey);
    return this.inner.capture(request);
  }
  cancel(request: { providerPaymentId: string; reason: string | null; idempotencyKey: string }): Promise<ProviderActionResult> {
    this.keys.push(request.idempotencyKey);
    return this.inner.cancel(request);
  }
  refund(request: Parameters<PaymentProvider['refund']>[0]) {
    return this.inner.refund(request);
  }
  retrieveRefund(id: string) {
    return this.inner.retrieveRefund(id);
  }
  retrievePayment(id: string) {
    return this.inner.retrievePayment(id);
  }
  retrieveDispute(id: string) {
    return this.inner.retrieveDispute(id);
  }
  retrieveRefundDetails(id: string) {
    return this.inner.retrieveRefundDetails(id);
  }
}

const FAIL_OUTCOMES_SQL = `
CREATE TABLE IF NOT EXISTS test_fail_armed (event_type text PRIMARY KEY);
CREATE OR REPLACE FUNCTION test_fail_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM test_fail_armed WHERE event_type = NEW.event_type) THEN
    RAISE EXCEPTION 'injected: the append of % fails after the processor call', NEW.event_type;
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS test_fail_outcome ON events;
CREATE TRIGGER test_fail_outcome BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_fail_outcome();
`;

interface Harness {
  db: TestDatabase;
  service: RunningService;
  provider: RecordingProvider;
}

async function start(label: string, graceMs: number): Promise<Harness> {
  const db = await createTestDatabase(label);
  const provider = new RecordingProvider();
  const service = await startTestService(db.url, { PAYMENT_INTENT_GRACE_MS: String(graceMs) }, { paymentProvider: provider });
  await db.pool.query(FAIL_OUTCOMES_SQL);
  return { db, service, provider };
}

const post = async (h: Harness, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await authHeader()), ...headers }, body: JSON.stringify(body) });

const streamTypes = async (h: Harness, paymentId: string): Promise<string[]> =>
  (await h.db.pool.query<{ event_type: string }>(`SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_revision`, [`payment-${paymentId}`])).rows.map((r) => r.event_type);

const paymentStreams = async (h: Harness): Promise<string[]> =>
  (await h.db.pool.query<{ stream_id: string }>(`SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'payment-%' ORDER BY stream_id`)).rows.map((r) => r.stream_id.slice('payment-'.length));

async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const body = { customerId: 'cus_intent', amount: 4_200, currency: 'EUR', paymentMethod: 'pm_card_visa', captureMethod: 'manual' };

describe('intent first on PostgreSQL: a same-key retry completes what a failed outcome append left', () => {
  let h: Harness;
  beforeAll(async () => {
    // A grace far longer than the test: only the client's retry may complete.
    h = await start('intents_retry', 600_000);
  });
  afterAll(async () => {
    await h?.service.stop();
    await h?.db.drop();
  });

  it('create, then capture: each outcome append fails once, each retry completes under the same processor key', async () => {
    await h.db.pool.query(`INSERT INTO test_fail_armed VALUES ('PaymentAuthorized')`);
    const failed = await post(h, '/v1/payments', body, { 'idempotency-key': 'int-create-1' });
    expect(failed.status).toBe(500);
    const [id] = await paymentStreams(h);
    expect(await streamTypes(h, id!)).toEqual(['PaymentRequested']);
    await h.db.pool.query(`DELETE FROM test_fail_armed`);

    // The read model shows the payment, processing, while the processor's answer is not recorded.
    const processing = await until(async () => {
      const res = await fetch(`${h.service.url}/v1/payments/${id}`, { headers: await authHeader() });
      return res.status === 200 ? ((await res.json()) as { status: string; pendingOperation: unknown }) : undefined;
    });
    expect(processing).toMatchObject({ status: 'processing', pendingOperation: { operation: 'create' } });

    const retried = await post(h, '/v1/payments', body, { 'idempotency-key': 'int-create-1' });
    expect(retried.status).toBe(201);
    expect(await retried.json()).toMatchObject({ id, status: 'requires_capture', revision: '1', pendingOperation: null });
    expect(h.provider.keys).toEqual([`create:${id}`, `create:${id}`]);
    expect(h.provider.charged.size).toBe(1);

    await h.db.pool.query(`INSERT INTO test_fail_armed VALUES ('PaymentCaptured')`);
    expect((await post(h, `/v1/payments/${id}/capture`, { amount: 4_000 }, { 'idempotency-key': 'int-capture-1' })).status).toBe(500);
    // While the capture is pending, a cancel cannot reach the processor.
    const cancel = await post(h, `/v1/payments/${id}/cancel`, {});
    expect(cancel.status).toBe(409);
    expect(await cancel.json()).toMatchObject({ code: 'payment_operation_pending', pendingOperation: 'capture' });
    await h.db.pool.query(`DELETE FROM test_fail_armed`);
    const captured = await post(h, `/v1/payments/${id}/capture`, { amount: 4_000 }, { 'idempotency-key': 'int-capture-1' });
    expect(captured.status).toBe(200);
    expect(await captured.json()).toMatchObject({ status: 'succeeded', amountCaptured: 4_000, amountReleased: 200, revision: '3' });
    expect(h.provider.keys.slice(2)).toEqual([`capture:${id}:4000`, `capture:${id}:4000`]);
    expect(await streamTypes(h, id!)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptureRequested', 'PaymentCaptured']);

    // The ledger heard of the money once: one capture of 4,000.
    const position = captured.headers.get('ledger-position')!;
    const balance = await fetch(`${h.service.url}/v1/ledger/trial-balance?minPosition=${position}`, { headers: await authHeader() });
    expect(balance.status).toBe(200);
    expect(((await balance.json()) as { data: unknown[] }).data).toEqual([{ currency: 'EUR', debits: 4_000, credits: 4_000 }]);
  });
});

describe('intent first on PostgreSQL: with no retry, the completer records the outcome', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start('intents_completer', 1_000);
  });
  afterAll(async () => {
    await h?.service.stop();
    await h?.db.drop();
  });

  it('a keyless create whose outcome append failed is authorized by the completer under the key its request recorded', async () => {
    await h.db.pool.query(`INSERT INTO test_fail_armed VALUES ('PaymentAuthorized')`);
    expect((await post(h, '/v1/payments', body)).status).toBe(500);
    await h.db.pool.query(`DELETE FROM test_fail_armed`);
    const [id] = await paymentStreams(h);
    const completed = await until(async () => {
      const types = await streamTypes(h, id!);
      return types.length >= 2 ? types : undefined;
    });
    expect(completed).toEqual(['PaymentRequested', 'PaymentAuthorized']);
    const [first, second] = h.provider.keys;
    expect(first).toMatch(new RegExp(`^create:${id}:`));
    expect(second).toBe(first);
    const outcome = await h.db.pool.query<{ actor: string }>(`SELECT metadata->>'actor' AS actor FROM events WHERE stream_id = $1 AND stream_revision = 1`, [`payment-${id}`]);
    expect(outcome.rows[0]?.actor).toBe('payment-intent-completer');

    // The completer's queue is empty again, and the read model shows the authorization.
    await until(async () => {
      const { rows } = await h.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM rm_payment_intents.payment_intents`);
      return rows[0]?.n === '0' ? true : undefined;
    });
    const res = await fetch(`${h.service.url}/v1/payments/${id}`, { headers: await authHeader() });
    expect(await res.json()).toMatchObject({ status: 'requires_capture', pendingOperation: null });
  });
});
