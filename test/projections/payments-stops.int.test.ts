import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/application/ports/position.js';
import { paymentStream, toPaymentId } from '../../src/domain/ids.js';
import { paymentsProjection } from '../../src/projections/payments/payments-projection.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import type { ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase } from './support/postgres-setup.js';
import { PAYMENT_ID, authorized, captured } from '../domain/fixtures.js';
import { eventually } from './support/test-projections.js';

/*
 * An event the aggregate's fold refuses (here: a capture of a payment that was never
 * created) stops the payments projection at that event, visibly, instead of being skipped.
 */

let t: ProjectionTestDatabase;
let runner: ProjectionRunner | undefined;

beforeAll(async () => {
  t = await projectionTestDatabase('payments_stops');
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

describe('payments projection on an event that cannot apply', () => {
  it('fails at that event, naming it, with the payment it is about', async () => {
    const s = t.instance('payments');
    const metadata = { correlationId: 'c', causationId: null, actor: 'test', occurredAt: new Date().toISOString(), schemaVersion: 1 };
    const stranger = toPaymentId('pay_01JD7ZZZZZZZZZZZZZZZZZZZZZ');
    const known = authorized();
    await s.eventStore.append(paymentStream(PAYMENT_ID), [{ id: crypto.randomUUID(), type: known.type, data: known.data, metadata }], 'no_stream');
    // A capture written to a payment that does not exist: a misrouted or corrupt stream.
    const capture = captured(200, 9_800);
    const misrouted = { id: crypto.randomUUID(), type: capture.type, data: { ...capture.data, paymentId: stranger }, metadata };
    await s.eventStore.append(paymentStream(stranger), [misrouted], 'no_stream');

    runner = new ProjectionRunner({ eventStore: s.eventStore, store: s.store, projections: [paymentsProjection] }, { leaseRetryMs: 100 });
    runner.start();
    await eventually(async () => (await s.store.read(['payments']))[0]?.failure != null, 10_000, 'failure recorded');

    const bad = (await s.eventStore.readStream(paymentStream(stranger))).events[0]!;
    const [status] = await readProjectionStatuses({ store: s.store, eventStore: s.eventStore, projections: [paymentsProjection] });
    expect(status).toMatchObject({ status: 'failed', failedEventId: bad.id, failedPosition: formatPosition(bad.position) });
    expect(status?.error).toMatch(new RegExp(`payment ${stranger} is not in the read model`));
    expect(status?.error).toMatch(/PaymentCaptured cannot apply/);
  });
});
