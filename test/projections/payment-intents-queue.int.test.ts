import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { SqlPaymentIntentQueue, paymentIntentsProjection } from '../../src/projections/payment-intents/payment-intents-projection.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * The completer's queue over the payment_intents table on PostgreSQL: the grace period keeps
 * a fresh request for its own command, a claim hides an item for its lease, a reschedule
 * moves it on unless the log has moved the payment to another request meanwhile.
 */

let db: TestDatabase;
let n = 0;
const event = (type: string, paymentId: string, occurredAt: Date): RecordedEvent => {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    streamId: `payment-${paymentId}`,
    revision: streamRevision(0),
    position: position(BigInt(n), BigInt(n)),
    data: { paymentId },
    metadata: { correlationId: 'c', causationId: null, actor: 't', occurredAt: occurredAt.toISOString(), schemaVersion: 1 },
    recordedAt: occurredAt,
  };
};

async function apply(events: RecordedEvent[]): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('SET search_path TO rm_payment_intents');
    await paymentIntentsProjection.applyBatch!(sqlExecutor(client), events);
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('payment_intents_queue');
  await db.pool.query('CREATE SCHEMA rm_payment_intents');
  await db.pool.query(`SET search_path TO rm_payment_intents; ${paymentIntentsProjection.schemaSql} RESET search_path;`);
});

afterAll(async () => {
  await db?.drop();
});

describe('SqlPaymentIntentQueue', () => {
  it('claims only requests older than the grace, hides a claim for its lease, and reschedules by request', async () => {
    const queue = new SqlPaymentIntentQueue(sqlExecutor(db.pool));
    const old = new Date(Date.now() - 120_000);
    const fresh = new Date();
    await apply([event('PaymentRequested', 'pay_old', old), event('PaymentCaptureRequested', 'pay_fresh', fresh), event('PaymentRequested', 'pay_done', old)]);
    await apply([event('PaymentAuthorized', 'pay_done', old)]);

    const claimed = await queue.claimDue(10, 60_000, 30_000);
    expect(claimed).toMatchObject([{ paymentId: 'pay_old', operation: 'create', attempts: 0 }]);
    // Claimed: hidden for the lease, even with no grace.
    expect((await queue.claimDue(10, 0, 30_000)).map((i) => i.paymentId)).toEqual(['pay_fresh']);

    await queue.reschedule(claimed[0]!, 3, 0);
    expect(await queue.claimDue(10, 0, 30_000)).toMatchObject([{ paymentId: 'pay_old', attempts: 3 }]);

    // The log moved pay_old on to another request: a late reschedule of the old one changes nothing.
    await apply([event('PaymentAuthorized', 'pay_old', old), event('PaymentCancelRequested', 'pay_old', old)]);
    await queue.reschedule(claimed[0]!, 9, 60_000);
    expect(await queue.claimDue(10, 0, 30_000)).toMatchObject([{ paymentId: 'pay_old', operation: 'cancel', attempts: 0 }]);
  });
});
