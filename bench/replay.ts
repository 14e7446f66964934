import type pg from 'pg';
import type { EventStore, NewEvent } from '../src/application/ports/event-store.js';
import type { PaymentAuthorized, PaymentCaptured } from '../src/domain/payment/index.js';
import { PostgresActivityFeed } from '../src/infrastructure/postgres/activity/postgres-activity-feed.js';
import { PostgresEventStore } from '../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { allMigrations } from '../src/infrastructure/postgres/all-migrations.js';
import { migrate } from '../src/infrastructure/postgres/migrator.js';
import { PostgresProjectionStore } from '../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { ACTIVITY_FEED_NAME, rebuildActivityFeed } from '../src/projections/activity/activity-feed-runner.js';
import { PAYMENTS_SCHEMA_SQL } from '../src/projections/payments/payment-row.js';
import { ProjectionRebuilder } from '../src/projections/rebuild.js';
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
 * Projection replay (docs/architecture.md, "Performance targets"): ProjectionRebuilder
 * rebuilding read models from the start of the log (PostgresProjectionStore), in events per
 * second of log read. First payments alone over a log of created-and-captured payments,
 * alternating with the baseline; then refunds are added and every projection the service
 * runs (the composition root's list, so a projection added there is measured here with no
 * change) is rebuilt alone, then all at once: one pass over the log for the runner's
 * projections (rebuildMany) while the activity feed (PostgreSQL JSONB) rebuilds beside it.
 * In full mode the log then grows to 1M events and everything is rebuilt again, timed.
 *
 * The target is absolute (≥ 50,000 events/s with every PostgreSQL projection, and a 1M-event
 * rebuild under 30 s). Beside it, as a yardstick of what this machine can do, a raw replay
 * of the payment events into an identical payments table: raw primary-key paging over the
 * events table, pages of the same size, each page folded in memory and written with one
 * set-based upsert (plus one UPDATE for payments created in an earlier page) and a
 * checkpoint row, in one transaction per page. It handles only the two event types of a
 * created payment; it is what one batched projection could reach, not a drop-in replacement.
 */

const BATCH = 2_000; // what the service's ProjectionRebuilder uses (composition root: max(PROJECTION_BATCH_SIZE, 2000))
const TARGET_EVENTS_PER_SECOND = 50_000;
const SEED_CONCURRENCY = 4;
const PAYMENTS_PER_APPEND = 50;
/** Full mode only: the log the timed big rebuild reads. */
const BIG_LOG_EVENTS = 1_000_000;
const BIG_REBUILD_TARGET_MS = 30_000;
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

interface SeededPayment {
  readonly index: number;
  readonly id: PaymentId;
  readonly customerId: string;
  readonly amount: number;
}

/**
 * Payments in batches: each append carries PAYMENTS_PER_APPEND created-and-captured payments
 * (their PaymentAuthorized + PaymentCaptured pairs, in order) on a stream of its own. The
 * projections read only the events (data.paymentId, revision order), not the stream layout;
 * batches make seeding ~6x faster than one append per payment stream.
 */
async function seed(store: PostgresEventStore, payments: number, from = 0): Promise<{ written: number; streams: SeededPayment[][] }> {
  let written = 0;
  const appends = Math.ceil(payments / PAYMENTS_PER_APPEND);
  const streams: SeededPayment[][] = Array.from({ length: appends }, () => []);
  await forEachConcurrently(appends, SEED_CONCURRENCY, 600_000, async (a) => {
    const events: NewEvent[] = [];
    for (let i = from + a * PAYMENTS_PER_APPEND; i < from + Math.min(payments, (a + 1) * PAYMENTS_PER_APPEND); i++) {
      const payment = { index: i, id: newPaymentId(), customerId: `cus_${i % 2_000}`, amount: 100 + (i % 50_000) };
      streams[a]?.push(payment);
      events.push(...paymentCreatedEvents(payment.id, payment.customerId, payment.amount));
    }
    await store.append(`seed-${from}-${a}`, events, 'no_stream');
    written += events.length;
  });
  return { written, streams };
}

/**
 * Refunds of the seeded payments, appended after them on the same streams (so every event
 * about a payment sits at a later revision than its capture, as on a real payment stream).
 */
async function seedRefunds(store: PostgresEventStore, streams: readonly SeededPayment[][], from = 0): Promise<{ written: number; succeeded: number; failed: number }> {
  let written = 0;
  let succeeded = 0;
  let failed = 0;
  await forEachConcurrently(streams.length, SEED_CONCURRENCY, 600_000, async (a) => {
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
    await store.append(`seed-${from}-${a}`, events, streamRevision(payments.length * 2 - 1));
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

/** A seeded log: events so far, and what the rebuilt ledger must then hold. */
interface SeededLog {
  events: number;
  paymentEvents: number;
  refundsSucceeded: number;
  refundsFailed: number;
}

const expectedLedgerEntries = (log: SeededLog): number => log.paymentEvents / 2 + log.refundsSucceeded * 3 + log.refundsFailed * 2;

/** Payments, then refunds of some of them on the same streams. */
async function grow(store: PostgresEventStore, log: SeededLog, payments: number): Promise<void> {
  const { written, streams } = await seed(store, payments, log.paymentEvents / 2);
  const refunds = await seedRefunds(store, streams, log.paymentEvents / 2);
  log.events += written + refunds.written;
  log.paymentEvents += written;
  log.refundsSucceeded += refunds.succeeded;
  log.refundsFailed += refunds.failed;
}

interface AllAtOnce {
  readonly ms: number;
  readonly detail: string;
}

/**
 * Every PostgreSQL projection rebuilt at once: the runner's projections in one pass over the
 * log, the activity feed (its own store and loop) beside it. The wall time until the last switched.
 */
async function rebuildEverything(rebuilder: ProjectionRebuilder, names: readonly string[], feed: { eventStore: EventStore; feed: PostgresActivityFeed; leases: PostgresProjectionStore }, expected: number): Promise<AllAtOnce> {
  const t0 = now();
  let projectionsMs = 0;
  let activityMs = 0;
  await Promise.all([
    (async () => {
      const results = await rebuilder.rebuildMany(names);
      projectionsMs = now() - t0;
      for (const [i, r] of results.entries()) {
        if (!r.ok) throw new Error(`rebuild of ${names[i]} failed: ${JSON.stringify(r.error)}`);
        if (r.value.processed !== expected) throw new Error(`rebuild of ${r.value.name} processed ${r.value.processed} of ${expected} events`);
      }
    })(),
    (async () => {
      const activity = await rebuildActivityFeed(feed, { holder: 'bench-activity-all', batchSize: BATCH });
      activityMs = now() - t0;
      if (activity?.events !== expected) throw new Error(`activity rebuild processed ${activity?.events ?? 'nothing'} of ${expected} events`);
    })(),
  ]);
  const ms = now() - t0;
  return { ms, detail: `${names.length} projections in one pass ${fmtMs(projectionsMs)}, activity feed ${fmtMs(activityMs)}` };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const payments = ctx.quick ? 1_000 : 25_000;
  const timeLimitMs = ctx.quick ? 20_000 : 40_000;
  const rounds = ctx.quick ? 1 : 2;

  return withBenchDatabase('replay', async (db) => {
    const pool = db.createPool(12, 'bench-replay');
    await migrate(pool, allMigrations);
    const eventStore = new PostgresEventStore(pool);
    const store = new PostgresProjectionStore(pool);
    try {
      const s0 = now();
      const { written: seeded, streams } = await seed(eventStore, payments);
      ctx.log(`  seeded ${fmtInt(seeded)} events (${fmtInt(seeded / 2)} payments: PaymentAuthorized + PaymentCaptured, ${PAYMENTS_PER_APPEND} payments per append, ${SEED_CONCURRENCY} writers) in ${fmtMs(now() - s0)}`);
      await pool.query('VACUUM (ANALYZE) events');

      const projections = await serviceProjections(db.url, pool);
      const names = projections.map((p) => p.name);
      const rebuilder = new ProjectionRebuilder({ eventStore, store, projections }, { batchSize: BATCH, instanceId: 'bench-rebuild' });
      await createRawSchema(pool);
      // Alternating rounds, best of each: both sides see the same background noise.
      const rebuildRates: number[] = [];
      const rawRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await checkpoint(pool);
        const r0 = now();
        const rebuilt = await rebuilder.rebuild('payments', undefined, AbortSignal.timeout(timeLimitMs));
        const rebuildMs = now() - r0;
        if (!rebuilt.ok) throw new Error(`rebuild failed: ${JSON.stringify(rebuilt.error)}`);
        if (rebuilt.value.processed !== seeded) throw new Error(`rebuild processed ${rebuilt.value.processed} of ${seeded} events`);
        rebuildRates.push((seeded * 1000) / rebuildMs);

        await checkpoint(pool);
        const b0 = now();
        const rawProcessed = await rawReplay(pool, seeded, timeLimitMs);
        const rawMs = now() - b0;
        if (rawProcessed !== seeded) throw new Error(`raw replay processed ${rawProcessed} of ${seeded} events (time limit?)`);
        rawRates.push((rawProcessed * 1000) / rawMs);
      }
      const rebuildRate = Math.max(...rebuildRates);
      const rawRate = Math.max(...rawRates);
      const live = await summary(pool, 'rm_payments.payments');
      const raw = await summary(pool, `${RAW_SCHEMA}.payments`);
      ctx.log(`  rebuild of payments, ${fmtInt(seeded)} events: ${rebuildRates.map((r) => `${fmtInt(r)} ev/s`).join(', ')} → ${live}`);
      ctx.log(`  raw batched upsert: ${rawRates.map((r) => `${fmtInt(r)} ev/s`).join(', ')} → ${raw}`);
      if (live !== raw) throw new Error(`the raw replay disagrees with the rebuild: ${raw} vs ${live}`);
      const baseline = `${fmtInt(rawRate)} ev/s (raw batched upsert of payments)`;
      const rows: Row[] = [
        {
          benchmark: 'projection replay (rebuild payments alone)',
          setting: `${fmtInt(seeded)} events, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(rebuildRate)} ev/s`,
          baseline,
          ratio: rebuildRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: rebuildRate >= TARGET_EVENTS_PER_SECOND,
        },
      ];

      // Refunds on the same streams, after the payments: every projection has work to do.
      const r0 = now();
      const refunds = await seedRefunds(eventStore, streams);
      const log: SeededLog = { events: seeded + refunds.written, paymentEvents: seeded, refundsSucceeded: refunds.succeeded, refundsFailed: refunds.failed };
      ctx.log(`  added ${fmtInt(refunds.written)} refund events (${fmtInt(refunds.succeeded)} refunds that succeed, ${fmtInt(refunds.failed)} that fail, 4 events each) in ${fmtMs(now() - r0)}: ${fmtInt(log.events)} events`);
      await pool.query('VACUUM (ANALYZE) events');

      // Each alone, over the log with refunds.
      const feed = { eventStore, feed: new PostgresActivityFeed(pool), leases: store };
      for (const name of [...names, ACTIVITY_FEED_NAME]) {
        await checkpoint(pool);
        const a0 = now();
        if (name === ACTIVITY_FEED_NAME) {
          const activity = await rebuildActivityFeed(feed, { holder: 'bench-activity', batchSize: BATCH });
          if (activity?.events !== log.events) throw new Error(`activity rebuild processed ${activity?.events ?? 'nothing'} of ${log.events} events`);
        } else {
          const rebuilt = await rebuilder.rebuild(name, undefined, AbortSignal.timeout(timeLimitMs));
          if (!rebuilt.ok) throw new Error(`rebuild of ${name} failed: ${JSON.stringify(rebuilt.error)}`);
          if (rebuilt.value.processed !== log.events) throw new Error(`rebuild of ${name} processed ${rebuilt.value.processed} of ${log.events} events`);
        }
        const rate = (log.events * 1000) / (now() - a0);
        ctx.log(`  rebuild of ${name} alone: ${fmtInt(rate)} ev/s`);
        rows.push({
          benchmark: `projection replay (rebuild ${name === ACTIVITY_FEED_NAME ? 'activity feed, PostgreSQL JSONB,' : name} alone)`,
          setting: `${fmtInt(log.events)} events incl. refunds, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(rate)} ev/s`,
          baseline,
          ratio: rate / rawRate,
          target: '—',
          pass: undefined,
        });
      }
      await checkReports(pool);

      // The way it was: one rebuild per projection in parallel, each reading the log itself.
      await checkpoint(pool);
      const p0 = now();
      await Promise.all(
        names.map(async (name) => {
          const rebuilt = await rebuilder.rebuild(name, undefined, AbortSignal.timeout(timeLimitMs * 2));
          if (!rebuilt.ok) throw new Error(`rebuild of ${name} failed: ${JSON.stringify(rebuilt.error)}`);
        }),
      );
      const separateRate = (log.events * 1000) / (now() - p0);
      ctx.log(`  ${names.length} separate rebuilds in parallel, each reading the log (${names.join(', ')}): ${fmtInt(separateRate)} ev/s`);
      // The same projections in one pass: the like-for-like comparison with the line above.
      await checkpoint(pool);
      const o0 = now();
      for (const r of await rebuilder.rebuildMany(names)) if (!r.ok) throw new Error(`rebuild failed: ${JSON.stringify(r.error)}`);
      const onePassRate = (log.events * 1000) / (now() - o0);
      ctx.log(`  the same ${names.length} in one pass (rebuildMany): ${fmtInt(onePassRate)} ev/s`);

      const allRates: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await checkpoint(pool);
        const all = await rebuildEverything(rebuilder, names, feed, log.events);
        allRates.push((log.events * 1000) / all.ms);
        ctx.log(`  rebuild of every PostgreSQL projection at once (${names.join(', ')}; activity feed), ${fmtInt(log.events)} events: ${fmtInt((log.events * 1000) / all.ms)} ev/s (${all.detail})`);
      }
      const allRate = Math.max(...allRates);
      await checkLedger(pool, expectedLedgerEntries(log), ctx);
      rows.push(
        {
          benchmark: `projection replay (${names.length} separate rebuilds in parallel, each reading the log)`,
          setting: `${fmtInt(log.events)} events incl. refunds, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(separateRate)} ev/s`,
          baseline,
          ratio: separateRate / rawRate,
          target: '—',
          pass: undefined,
        },
        {
          benchmark: `projection replay (the same ${names.length} in one pass over the log, rebuildMany)`,
          setting: `${fmtInt(log.events)} events incl. refunds, batch ${fmtInt(BATCH)}`,
          figure: `${fmtInt(onePassRate)} ev/s`,
          baseline,
          ratio: onePassRate / rawRate,
          target: '—',
          pass: undefined,
        },
        {
          benchmark: `projection replay (rebuild all PostgreSQL projections at once: ${names.join(', ')}, activity feed)`,
          setting: `${fmtInt(log.events)} events incl. refunds, batch ${fmtInt(BATCH)}, one pass + activity feed beside it`,
          figure: `${fmtInt(allRate)} ev/s`,
          baseline,
          ratio: allRate / rawRate,
          target: `≥ ${fmtInt(TARGET_EVENTS_PER_SECOND)} ev/s`,
          pass: allRate >= TARGET_EVENTS_PER_SECOND,
        },
      );

      if (!ctx.quick) rows.push(await bigRebuild(ctx, { pool, eventStore, rebuilder, names, feed, log, rawRate }));
      return rows;
    } finally {
      await store.close();
      await eventStore.close();
    }
  });
}

/** Full mode: the log grows to BIG_LOG_EVENTS (same mix), then everything is rebuilt once, timed. */
async function bigRebuild(
  ctx: BenchContext,
  t: {
    pool: pg.Pool;
    eventStore: PostgresEventStore;
    rebuilder: ProjectionRebuilder;
    names: readonly string[];
    feed: { eventStore: EventStore; feed: PostgresActivityFeed; leases: PostgresProjectionStore };
    log: SeededLog;
    rawRate: number;
  },
): Promise<Row> {
  const g0 = now();
  const perPayment = t.log.events / (t.log.paymentEvents / 2);
  const morePayments = Math.ceil((BIG_LOG_EVENTS - t.log.events) / perPayment);
  // In slices, so that refunds follow their payments closely in the log, as in production.
  const slice = 25_000;
  for (let done = 0; done < morePayments; done += slice) await grow(t.eventStore, t.log, Math.min(slice, morePayments - done));
  ctx.log(`  grew the log to ${fmtInt(t.log.events)} events through the append path in ${fmtMs(now() - g0)}`);
  await t.pool.query('VACUUM (ANALYZE) events');
  await checkpoint(t.pool);
  const all = await rebuildEverything(t.rebuilder, t.names, t.feed, t.log.events);
  const rate = (t.log.events * 1000) / all.ms;
  ctx.log(`  rebuild of every PostgreSQL projection at once, ${fmtInt(t.log.events)} events: ${fmtMs(all.ms)}, ${fmtInt(rate)} ev/s (${all.detail})`);
  await checkLedger(t.pool, expectedLedgerEntries(t.log), ctx);
  return {
    benchmark: 'projection rebuild of a 1M-event log (all PostgreSQL projections at once)',
    setting: `${fmtInt(t.log.events)} events incl. refunds, batch ${fmtInt(BATCH)}`,
    figure: `${fmtMs(all.ms)} (${fmtInt(rate)} ev/s)`,
    baseline: `${fmtInt(t.rawRate)} ev/s (raw batched upsert of payments, 50k events)`,
    ratio: rate / t.rawRate,
    target: `< ${fmtMs(BIG_REBUILD_TARGET_MS)}`,
    pass: all.ms < BIG_REBUILD_TARGET_MS,
  };
}

/** The reports read model over the same log: every capture counts, so its rows total what payments captured. */
async function checkReports(pool: pg.Pool): Promise<void> {
  const reported = await pool.query<{ captured: string }>('SELECT coalesce(sum(gross), 0)::text AS captured FROM rm_reports.revenue_daily');
  const paid = await pool.query<{ captured: string }>('SELECT coalesce(sum(amount_captured), 0)::text AS captured FROM rm_payments.payments');
  if (reported.rows[0]?.captured !== paid.rows[0]?.captured) {
    throw new Error(`the reports disagree with the payments read model: ${reported.rows[0]?.captured} vs ${paid.rows[0]?.captured} captured`);
  }
}

export const replayBenchmark: Benchmark = { name: 'replay', run };
