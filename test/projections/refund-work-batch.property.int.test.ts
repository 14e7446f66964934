import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { refundWorkProjection } from '../../src/projections/refund-work/refund-work-projection.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * The refund_work projection folds a batch in memory and writes it with one statement.
 * Its reference is the rule set one event at a time, as SQL (the projection's statements
 * before it became set-based): for any sequence of its events, in any order and cut into
 * batches of any size, both must leave the same rows, attempts reset and due times included.
 */

const GRACE_SECONDS = 5;
const RANK = `CASE step WHEN 'request' THEN 0 WHEN 'provider' THEN 1 ELSE 2 END`;
const REFERENCE = {
  open: `INSERT INTO refund_work (refund_id, payment_id, reservation_event_id, step, next_attempt_at)
         VALUES ($1, $2, $3, 'request', $4::timestamptz + make_interval(secs => $5)) ON CONFLICT (refund_id) DO NOTHING`,
  advance: `UPDATE refund_work SET step = $2, attempts = 0, next_attempt_at = $3::timestamptz + make_interval(secs => $4)
             WHERE refund_id = $1 AND ${RANK} < (CASE $2 WHEN 'request' THEN 0 WHEN 'provider' THEN 1 ELSE 2 END)`,
  done: `DELETE FROM refund_work WHERE refund_id = $1`,
};
const STEP_OF: Record<string, string> = { RefundRequested: 'provider', RefundSucceeded: 'close', RefundFailed: 'close', RefundCanceled: 'close' };

const TYPES = [
  'PaymentRefundReserved',
  'PaymentRefundSettled',
  'PaymentRefundReleased',
  'RefundRequested',
  'RefundSucceeded',
  'RefundFailed',
  'RefundCanceled',
] as const;

async function applyReference(client: pg.ClientBase, event: RecordedEvent): Promise<void> {
  const data = event.data as { refundId: string; paymentId: string };
  const at = event.metadata.occurredAt;
  if (event.type === 'PaymentRefundReserved') await client.query(REFERENCE.open, [data.refundId, data.paymentId, event.id, at, GRACE_SECONDS]);
  else if (event.type === 'PaymentRefundSettled' || event.type === 'PaymentRefundReleased') await client.query(REFERENCE.done, [data.refundId]);
  else await client.query(REFERENCE.advance, [data.refundId, STEP_OF[event.type], at, GRACE_SECONDS]);
}

let db: TestDatabase;
let run = 0;
const projection = refundWorkProjection(GRACE_SECONDS);

beforeAll(async () => {
  db = await createTestDatabase('refund_work_batch');
});

afterAll(async () => {
  await db?.drop();
});

async function rowsAfter(schema: string, apply: (client: pg.PoolClient) => Promise<void>): Promise<unknown[]> {
  const client = await db.pool.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path = ${schema}`);
    await client.query(projection.schemaSql);
    await apply(client);
    const { rows } = await client.query<Record<string, unknown>>(`SELECT refund_id, payment_id, reservation_event_id, step, attempts, next_attempt_at FROM refund_work ORDER BY refund_id`);
    return rows;
  } finally {
    await client.query(`SET search_path = public`);
    client.release();
  }
}

const eventArb = fc.record({ refund: fc.nat({ max: 2 }), payment: fc.nat({ max: 1 }), type: fc.constantFrom(...TYPES), seconds: fc.nat({ max: 100 }) });

describe('refund_work, set-based', () => {
  it('leaves what the per-event rules leave, for any events cut into any batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 14 }), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }), async (specs, sizes) => {
        run += 1;
        const events: RecordedEvent[] = specs.map((s, i) => ({
          id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          streamId: `refund-${s.refund}`,
          revision: streamRevision(BigInt(i)),
          position: position(1n, BigInt(i + 1)),
          type: s.type,
          data: { refundId: `re_${s.refund}`, paymentId: `pay_${s.payment}` },
          metadata: { occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, s.seconds)).toISOString() },
        }) as unknown as RecordedEvent);
        const expected = await rowsAfter(`ref_${run}`, async (client) => {
          for (const event of events) await applyReference(client, event);
        });
        const actual = await rowsAfter(`batch_${run}`, async (client) => {
          let at = 0;
          for (let b = 0; at < events.length; b++) {
            const size = sizes[b % sizes.length] ?? 1;
            await projection.applyBatch!(sqlExecutor(client), events.slice(at, at + size));
            at += size;
          }
        });
        expect(actual).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });
});
