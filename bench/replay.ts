import type pg from 'pg';
import type { EventStore, NewEvent, ReadAllOptions, RecordedEvent } from '../src/application/ports/event-store.js';
import type { PaymentAuthorized, PaymentCaptured } from '../src/domain/payment/index.js';
import { PostgresActivityFeed } from '../src/infrastructure/postgres/activity/postgres-activity-feed.js';
import { PostgresEventStore } from '../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { allMigrations } from '../src/infrastructure/postgres/all-migrations.js';
import { migrate } from '../src/infrastructure/postgres/migrator.js';
import { PostgresProjectionStore } from '../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { rebuildActivityFeed } from '../src/projections/activity/activity-feed-runner.js';
import { PAYMENTS_SCHEMA_SQL } from '../src/projections/payments/payment-row.js';
import { paymentsProjection } from '../src/projections/payments/payments-projection.js';
import { ProjectionRebuilder } from '../src/projections/rebuild.js';
import { reportsProjection } from '../src/projections/reports/reports-projection.js';
import { checkpoint, withBenchDatabase } from './support/db.js';
import { forEachConcurrently } from './support/load.js';
import { newPaymentId, paymentCreatedEvents, refundEvents } from './support/payloads.js';
import { serviceProjections } from './support/service-projections.js';
import { sqlExecutor } from '../src/infrastructure/postgres/sql-executor.js';
import { SqlLedgerQueries } from '../src/projections/ledger/ledger-queries.js';
import type { PaymentId } from '../src/domain/ids.js';
import { streamRevision } from '../src/application/ports/event-store.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, now } from './support/stats.js';

/*
 * Projection replay: ProjectionRebuilder rebuilding the payments read model from the start
 * of the log (PostgresProjectionStore, paymentsProjection), in events per second. Then
 * refunds are added to the log and every projection the service runs (the composition
 * root's list: payments, ledger, and whatever else is registered there) is rebuilt at once,
 * one rebuild per projection in parallel as the runner's workers would replay them: the
 * figure is the log's events over the wall time until the last of them has switched.
 *
 * The target is absolute (≥ 50,000 events/s). Beside it, as a yardstick of what this
 * machine can do, a raw replay of the same events into an identical payments table: raw
 * primary-key paging over the events table, pages of the same size, each page folded in
 * memory and written with one set-based upsert (plus one UPDATE for payments created in an
 * earlier page) and a checkpoint row, in one transaction per page. It handles only the two
 * event types seeded here; it is what a batched projection handler could reach, not a
 * drop-in replacement for the generic one.
 */

const BATCH = 2_000; // what the service's ProjectionRebuilder uses (composition root: max(PROJECTION_BATCH_SIZE, 2000))
const TARGET_EVENTS_PER_SECOND = 50_000;
const SEED_CONCURRENCY = 4;
const PAYMENTS_PER_APPEND = 50;
/** Of every 10 payments, one gets a refund that succeeds and one a refund that fails (4 events each). */
const REFUND_EVERY = 10;
const FAILED_REFUND_OFFSET = 5;

const RAW_SCHEMA = 'bench_raw';

// e.global_position: a bare ORDER BY global_position would sort by the text output column.
const RAW_READ = `SELECT e.global_position::text AS global_position, e.stream_revision::text AS revision, e.event_type, e.data,
  e.metadata->>'occurredAt' AS occurred_at
  FROM events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`;

const ROW_COLUMNS = `id text, status text, customer_id text, amount bigint, amount_capturable bigint, amount_captured bigint,
  amount_released bigint, currency text, capture_method text, payment_method text, description text, metadata jsonb,
  revision bigint, created_at timestamptz, updated_at timestamptz`;

const RAW_UPSERT = `
INSERT INTO ${RAW_SCHEMA}.payments AS p (id, status, customer_id, amount, amount_capturable, amount_captured, amount_released,
  currency, capture_method, payment_method, description, metadata, failure, cancellation_reason, revision, created_at, updated_at)
SELECT r.id, r.status, r.customer_id, r.amount, r.amount_capturable, r.amount_captured, r.amount_released,
  r.currency, r.capture_method, r.payment_method, r.description, coalesce(r.metadata, '{}'), NULL, NULL, r.revision, r.created_at, r.updated_at
  FROM jsonb_to_recordset($1::jsonb) AS r(${ROW_COLUMNS})
ON CONFLICT (id) DO UPDATE
  SET status = EXCLUDED.status, amount_capturable = EXCLUDED.amount_capturable, amount_captured = EXCLUDED.amount_captured,
      amount_released = EXCLUDED.amount_released, revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at
  WHERE p.revision < EXCLUDED.revision`;

const RAW_CAPTURE = `
UPDATE ${RAW_SCHEMA}.payments AS p
   SET status = 'succeeded', amount_captured = p.amount_captured + r.amount, amount_released = p.amount_released + r.released,
       amount_capturable = 0, revision = r.revision, updated_at = r.updated_at
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, amount bigint, released bigint, revision bigint, updated_at timestamptz)
 WHERE p.id = r.id AND p.revision < r.revision`;

interface RawEventRow {
  readonly global_position: string;
  readonly revision: string;
  readonly event_type: string;
  readonly data: unknown;
  readonly occurred_at: string;
}

interface PaymentRowState {
  id: string;
  status: string;
  customer_id: string;
  amount: number;
  amount_capturable: number;
  amount_captured: number;
  amount_released: number;
  currency: string;
  capture_method: string;
  payment_method: string;
  description: string | null;
  metadata: unknown;
  revision: number;
  created_at: string;
  updated_at: string;
}

interface CaptureDelta {
  id: string;
  amount: number;
  released: number;
  revision: number;
  updated_at: string;
}

/** Folds one page into full rows (payments created in it) and deltas (payments created before it). */
function foldPage(rows: readonly RawEventRow[]): { upserts: PaymentRowState[]; captures: CaptureDelta[] } {
  const created = new Map<string, PaymentRowState>();
  const captures = new Map<string, CaptureDelta>();
  for (const e of rows) {
    const revision = Number(e.revision);
    if (e.event_type === 'PaymentAuthorized') {
      const d = e.data as PaymentAuthorized['data'];
      created.set(d.paymentId, {
        id: d.paymentId,
        status: 'requires_capture',
        customer_id: d.customerId,
        amount: d.amount,
        amount_capturable: d.amount,
        amount_captured: 0,
        amount_released: 0,
        currency: d.currency,
        capture_method: d.captureMethod,
        payment_method: d.paymentMethod,
        description: d.description,
        metadata: d.metadata,
        revision,
        created_at: e.occurred_at,
        updated_at: e.occurred_at,
      });
    } else if (e.event_type === 'PaymentCaptured') {
      const d = e.data as PaymentCaptured['data'];
      const row = created.get(d.paymentId);
      if (row) {
        row.status = 'succeeded';
        row.amount_captured += d.amount;
        row.amount_released += d.amountReleased;
        row.amount_capturable = 0;
        row.revision = revision;
        row.updated_at = e.occurred_at;
      } else {
        captures.set(d.paymentId, { id: d.paymentId, amount: d.amount, released: d.amountReleased, revision, updated_at: e.occurred_at });
      }
    } else {
      throw new Error(`raw replay handles only the seeded event types, not ${e.event_type}`);
    }
  }
  return { upserts: [...created.values()], captures: [...captures.values()] };
}

async function rawReplay(pool: pg.Pool, expected: number, timeLimitMs: number): Promise<number> {
  await pool.query(`TRUNCATE ${RAW_SCHEMA}.payments`);
  await pool.query(`UPDATE ${RAW_SCHEMA}.checkpoint SET position = 0 WHERE id = 1`);
  const t0 = now();
  let after = '0';
  let processed = 0;
  while (processed < expected && now() - t0 < timeLimitMs) {
    const { rows } = await pool.query<RawEventRow>({ name: 'bench_raw_read', text: RAW_READ, values: [after, BATCH] });
    if (rows.length === 0) break;
    const { upserts, captures } = foldPage(rows);
    const last = rows[rows.length - 1]?.global_position ?? after;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (upserts.length > 0) await client.query({ name: 'bench_raw_upsert', text: RAW_UPSERT, values: [JSON.stringify(upserts)] });
      if (captures.length > 0) await client.query({ name: 'bench_raw_capture', text: RAW_CAPTURE, values: [JSON.stringify(captures)] });
      await client.query({ name: 'bench_raw_checkpoint', text: `UPDATE ${RAW_SCHEMA}.checkpoint SET position = $1 WHERE id = 1`, values: [last] });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    processed += rows.length;
    after = last;
  }
  return processed;
}

/** The same payments table as the projection's (PAYMENTS_SCHEMA_SQL), in a schema of its own. */
async function createRawSchema(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA ${RAW_SCHEMA}`);
    await client.query(`SET LOCAL search_path = ${RAW_SCHEMA}`);
    await client.query(PAYMENTS_SCHEMA_SQL);
    await client.query(`CREATE TABLE checkpoint (id int PRIMARY KEY, position bigint NOT NULL)`);
    await client.query(`INSERT INTO checkpoint VALUES (1, 0)`);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/**
 * Payments in batches: each append carries PAYMENTS_PER_APPEND created-and-captured payments
 * (their PaymentAuthorized + PaymentCaptured pairs, in order) on a stream of its own. The
 * projection reads only the events (data.paymentId, revision order), not the stream layout;
 * batches make seeding ~6x faster than one append per payment stream.
 */
/** The event store as the rebuilder sees it, timing its readAll calls (the rebuild reads and applies in turn). */
class TimedReads implements EventStore {
  readMs = 0;
  constructor(private readonly inner: EventStore) {}
  append: EventStore['append'] = (...args) => this.inner.append(...args);
  readStream: EventStore['readStream'] = (...args) => this.inner.readStream(...args);
  subscribeToAll: EventStore['subscribeToAll'] = (options) => this.inner.subscribeToAll(options);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  close: EventStore['close'] = () => this.inner.close();
  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    const t0 = now();
    try {
      return await this.inner.readAll(options);
    } finally {
      this.readMs += now() - t0;
    }
  }
}

interface SeededPayment {
  readonly index: number;
  readonly id: PaymentId;
  readonly customerId: string;
  readonly amount: number;
}

async function seed(store: PostgresEventStore, payments: number): Promise<{ written: number; streams: SeededPayment[][] }> {
  let written = 0;
  const appends = Math.ceil(payments / PAYMENTS_PER_APPEND);
  const streams: SeededPayment[][] = Array.from({ length: appends }, () => []);
  await forEachConcurrently(appends, SEED_CONCURRENCY, 120_000, async (a) => {
    const events: NewEvent[] = [];
    for (let i = a * PAYMENTS_PER_APPEND; i < Math.min(payments, (a + 1) * PAYMENTS_PER_APPEND); i++) {
      const payment = { index: i, id: newPaymentId(), customerId: `cus_${i % 2_000}`, amount: 100 + (i % 50_000) };
      streams[a]?.push(payment);
      events.push(...paymentCreatedEvents(payment.id, payment.customerId, payment.amount));
    }
    await store.append(`seed-${a}`, events, 'no_stream');
    written += events.length;
  });
  return { written, streams };
}

/**
 * Refunds of the seeded payments, appended after them on the same streams (so every event
 * about a payment sits at a later revision than its capture, as on a real payment stream).
 */
async function seedRefunds(store: PostgresEventStore, streams: readonly SeededPayment[][]): Promise<{ written: number; succeeded: number; failed: number }> {
  let written = 0;
  let succeeded = 0;
  let failed = 0;
  await forEachConcurrently(streams.length, SEED_CONCURRENCY, 120_000, async (a) => {
    const payments = streams[a] ?? [];
    const events: NewEvent[] = [];
    for (const p of payments) {
      if (p.index % REFUND_EVERY === 0) {
        events.push(...refundEvents(p.id, p.customerId, Math.ceil(p.amount / 2), 'succeeded'));
        succeeded++;
      } else if (p.index % REFUND_EVERY === FAILED_REFUND_OFFSET) {
        events.push(...refundEvents(p.id, p.customerId, p.amount, 'failed'));
        failed++;
      }
    }
    if (events.length === 0) return;
    await store.append(`seed-${a}`, events, streamRevision(payments.length * 2 - 1));
    written += events.length;
  });
  return { written, succeeded, failed };
}

async function summary(pool: pg.Pool, table: string): Promise<string> {
  const { rows } = await pool.query<{ n: string; captured: string; succeeded: string }>(
    `SELECT count(*)::text AS n, coalesce(sum(amount_captured), 0)::text AS captured, count(*) FILTER (WHERE status = 'succeeded')::text AS succeeded FROM ${table}`,
  );
  const r = rows[0];
  return `${r?.n ?? 0} rows, ${r?.succeeded ?? 0} succeeded, ${r?.captured ?? 0} captured`;
}

/** The rebuilt ledger must balance and hold one entry per money-moving event, or the figure means nothing. */
async function checkLedger(pool: pg.Pool, expectedEntries: number, ctx: BenchContext): Promise<void> {
  const trial = await new SqlLedgerQueries(sqlExecutor(pool)).trialBalance(undefined);
  const unbalanced = trial.data.filter((c) => c.debits !== c.credits);
  if (unbalanced.length > 0) throw new Error(`the rebuilt ledger does not balance: ${JSON.stringify(unbalanced)}`);
  const { rows } = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM rm_ledger.ledger_entries');
  const entries = Number(rows[0]?.n ?? 0);
  if (entries !== expectedEntries) throw new Error(`the rebuilt ledger has ${entries} entries, expected ${expectedEntries}`);
  ctx.log(`  ledger after the rebuild: ${fmtInt(entries)} entries, trial balance ${trial.data.map((c) => `${c.currency} ${fmtInt(c.debits)} = ${fmtInt(c.credits)}`).join(', ')}`);
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const payments = ctx.quick ? 1_000 : 25_000;
  const timeLimitMs = ctx.quick ? 20_000 : 40_000;
  const rounds = ctx.quick ? 1 : 2;

  return withBenchDatabase('replay', async (db) => {
    const pool = db.createPool(10, 'bench-replay');
    await migrate(pool, allMigrations);
    const eventStore = new PostgresEventStore(pool);
    const store = new PostgresProjectionStore(pool);
    try {
      const s0 = now();
      const { written: seeded, streams } = await seed(eventStore, payments);
      ctx.log(`  seeded ${fmtInt(seeded)} events (${fmtInt(seeded / 2)} payments: PaymentAuthorized + PaymentCaptured, ${PAYMENTS_PER_APPEND} payments per append, ${SEED_CONCURRENCY} writers) in ${fmtMs(now() - s0)}`);
      await pool.query('VACUUM (ANALYZE) events');

      const timedReads = new TimedReads(eventStore);
      const rebuilder = new ProjectionRebuilder(
        { eventStore: timedReads, store, projections: [paymentsProjection, reportsProjection] },
        { batchSize: BATCH, instanceId: 'bench-rebuild' },
      );
      await createRawSchema(pool);
      // Alternating rounds, best of each: both sides see the same background noise.
      const rebuildRates: number[] = [];
      const readShares: number[] = [];
      const rawRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await checkpoint(pool);
        timedReads.readMs = 0;
        const r0 = now();
        const rebuilt = await rebuilder.rebuild('payments', undefined, AbortSignal.timeout(timeLimitMs));
        const rebuildMs = now() - r0;
        if (!rebuilt.ok) throw new Error(`rebuild failed: ${JSON.stringify(rebuilt.error)}`);
        if (rebuilt.value.processed !== seeded) throw new Error(`rebuild processed ${rebuilt.value.processed} of ${seeded} events`);
        rebuildRates.push((seeded * 1000) / rebuildMs);
        readShares.push(timedReads.readMs / rebuildMs);

        await checkpoint(pool);
        const b0 = now();
        const rawProcessed = await rawReplay(pool, seeded, timeLimitMs);
        const rawMs = now() - b0;
        if (rawProcessed !== seeded) throw new Error(`raw replay processed ${rawProcessed} of ${seeded} events (time limit?)`);
        rawRates.push((rawProcessed * 1000) / rawMs);
      }
      const rebuildRate = Math.max(...rebuildRates);
      const rawRate = Math.max(...rawRates);
      const processed = seeded;

      // The reports read model over the same log: every capture counts, so its rows total what payments captured.
      const reportsRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await checkpoint(pool);
        const r0 = now();
        const rebuilt = await rebuilder.rebuild('reports', undefined, AbortSignal.timeout(timeLimitMs));
        if (!rebuilt.ok) throw new Error(`reports rebuild failed: ${JSON.stringify(rebuilt.error)}`);
        reportsRates.push((seeded * 1000) / (now() - r0));
      }
      const reportsRate = Math.max(...reportsRates);
      const reported = await pool.query<{ captured: string; payments: string }>(
        'SELECT coalesce(sum(gross), 0)::text AS captured, coalesce(sum(payments), 0)::text AS payments FROM rm_reports.revenue_daily',
      );
      ctx.log(`  rebuild of reports: ${reportsRates.map((r) => `${fmtInt(r)} ev/s`).join(', ')} → ${reported.rows[0]?.payments ?? 0} captures, ${reported.rows[0]?.captured ?? 0} captured`);
      const paid = await pool.query<{ captured: string }>('SELECT coalesce(sum(amount_captured), 0)::text AS captured FROM rm_payments.payments');
      if (reported.rows[0]?.captured !== paid.rows[0]?.captured) {
        throw new Error(`the reports disagree with the payments read model: ${reported.rows[0]?.captured} vs ${paid.rows[0]?.captured} captured`);
      }

      const live = await summary(pool, 'rm_payments.payments');
      const raw = await summary(pool, `${RAW_SCHEMA}.payments`);
      ctx.log(`  rebuild of ${fmtInt(processed)} events: ${rebuildRates.map((r) => `${fmtInt(r)} ev/s`).join(', ')} → ${live}`);
      ctx.log(`  share of the rebuild spent in readAll (the rest: applying, committing, bookkeeping): ${readShares.map((r) => `${Math.round(r * 100)}%`).join(', ')}`);
      ctx.log(`  raw batched upsert: ${rawRates.map((r) => `${fmtInt(r)} ev/s`).join(', ')} → ${raw}`);
      if (live !== raw) throw new Error(`the raw replay disagrees with the rebuild: ${raw} vs ${live}`);

      // The activity feed (PostgreSQL JSONB adapter) has its own write-then-checkpoint rebuild:
      // a figure of its own, to add to the payments figure for "all projections on".
      const feed = new PostgresActivityFeed(pool);
      await checkpoint(pool);
      const a0 = now();
      const activity = await rebuildActivityFeed({ eventStore, feed, leases: store }, { holder: 'bench-activity', batchSize: BATCH });
      const activityMs = now() - a0;
      if (activity?.events !== seeded) throw new Error(`activity rebuild processed ${activity?.events ?? 'nothing'} of ${seeded} events`);
      const activityRate = (seeded * 1000) / activityMs;
      ctx.log(`  activity feed rebuild (PostgreSQL JSONB): ${fmtInt(activityRate)} ev/s, ${fmtInt(activity.entries)} entries`);

      // All projections, over a log that now holds refunds too.
      const r0 = now();
      const refunds = await seedRefunds(eventStore, streams);
      const total = seeded + refunds.written;
      ctx.log(`  added ${fmtInt(refunds.written)} refund events (${fmtInt(refunds.succeeded)} refunds that succeed, ${fmtInt(refunds.failed)} that fail, 4 events each) in ${fmtMs(now() - r0)}: ${fmtInt(total)} events`);
      await pool.query('VACUUM (ANALYZE) events');
      const projections = await serviceProjections(db.url, pool);
      const names = projections.map((p) => p.name);
      const allRebuilder = new ProjectionRebuilder({ eventStore, store, projections }, { batchSize: BATCH, instanceId: 'bench-rebuild-all' });
      const allRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await checkpoint(pool);
        const a0 = now();
        const each = await Promise.all(
          names.map(async (name) => {
            const e0 = now();
            const rebuilt = await allRebuilder.rebuild(name, undefined, AbortSignal.timeout(timeLimitMs * 2));
            if (!rebuilt.ok) throw new Error(`rebuild of ${name} failed: ${JSON.stringify(rebuilt.error)}`);
            if (rebuilt.value.processed !== total) throw new Error(`rebuild of ${name} processed ${rebuilt.value.processed} of ${total} events`);
            return `${name} ${fmtMs(now() - e0)}`;
          }),
        );
        const allMs = now() - a0;
        allRates.push((total * 1000) / allMs);
        ctx.log(`  rebuild of every projection (${names.join(', ')}) at once, ${fmtInt(total)} events: ${fmtInt((total * 1000) / allMs)} ev/s (each: ${each.join(', ')})`);
      }
      const allRate = Math.max(...allRates);
      await checkLedger(pool, seeded / 2 + refunds.succeeded * 3 + refunds.failed * 2, ctx);

      return [
        {
          benchmark: 'projection replay (rebuild activity feed, PostgreSQL JSONB)',
          setting: `${fmtInt(processed)} events, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(activityRate)} ev/s`,
          baseline: `${fmtInt(rawRate)} ev/s (raw batched upsert of payments)`,
          ratio: activityRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: activityRate >= TARGET_EVENTS_PER_SECOND,
        },
        {
          benchmark: 'projection replay (rebuild payments)',
          setting: `${fmtInt(processed)} events, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(rebuildRate)} ev/s`,
          baseline: `${fmtInt(rawRate)} ev/s (raw batched upsert)`,
          ratio: rebuildRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: rebuildRate >= TARGET_EVENTS_PER_SECOND,
        },
        {
          benchmark: `projection replay (rebuild all: ${names.join(', ')})`,
          setting: `${fmtInt(total)} events incl. refunds, batch ${fmtInt(BATCH)}, ${names.length} rebuilds in parallel`,
          figure: `${fmtInt(allRate)} ev/s`,
          baseline: `${fmtInt(rawRate)} ev/s (raw batched upsert, payments only)`,
          ratio: allRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: allRate >= TARGET_EVENTS_PER_SECOND,
        },
        {
          benchmark: 'projection replay (rebuild reports)',
          setting: `${fmtInt(processed)} events, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(reportsRate)} ev/s`,
          baseline: `${fmtInt(rawRate)} ev/s (raw batched upsert of payments)`,
          ratio: reportsRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: reportsRate >= TARGET_EVENTS_PER_SECOND,
        },
      ];
    } finally {
      await store.close();
      await eventStore.close();
    }
  });
}

export const replayBenchmark: Benchmark = { name: 'replay', run };
