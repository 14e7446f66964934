import type pg from 'pg';
import type { NewEvent } from '../src/application/ports/event-store.js';
import { START, comparePositions, type Position } from '../src/application/ports/position.js';
import { PostgresEventStore } from '../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../src/infrastructure/postgres/migrator.js';
import { checkpoint, withBenchDatabase } from './support/db.js';
import { forEachConcurrently } from './support/load.js';
import { newPaymentId, paymentCreatedEvents } from './support/payloads.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, median, now } from './support/stats.js';

/*
 * Reading the whole log: PostgresEventStore.readAll paging 1,000 at a time from the start,
 * versus raw primary-key paging (WHERE id > $1 ORDER BY id LIMIT 1000) over a comparable
 * table holding the same rows (copied from the log, in log order). The log grows through the
 * sizes (10k, 100k, 1M events; smaller with BENCH_QUICK), measured at each: "flat" means the
 * ratio holds as the log grows, and page times at the end of the log match those at its start.
 */

const PAGE = 1_000;
const EVENTS_PER_SEED_APPEND = 100;
const TARGET_RATIO = 0.8;
/** Page time at the end of the log over page time at its start: "flat" means close to 1. */
const FLATNESS_LIMIT = 1.5;
const POOL_SIZE = 8;

const BASELINE_TABLE = `
CREATE TABLE baseline_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id text NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
)`;

// Copies the events the baseline does not hold yet (it holds the first $1 of the log).
const FILL_BASELINE = `
INSERT INTO baseline_events (stream_id, event_type, data, metadata, recorded_at)
SELECT stream_id, event_type, data, metadata, recorded_at FROM events
 ORDER BY transaction_id, global_position OFFSET $1`;

const RAW_PAGE = `SELECT id, stream_id, event_type, data, metadata, recorded_at FROM baseline_events WHERE id > $1 ORDER BY id LIMIT $2`;

interface Pass {
  readonly events: number;
  readonly ms: number;
  /** Duration of each page, in reading order. */
  readonly pageMs: readonly number[];
}

const rate = (p: Pass): number => (p.events * 1000) / p.ms;

async function portPass(store: PostgresEventStore, expected: number, timeLimitMs: number): Promise<Pass> {
  const pageMs: number[] = [];
  let after: Position | undefined;
  let events = 0;
  const t0 = now();
  // Bounded by count (the log does not grow meanwhile) and by time.
  while (events < expected && now() - t0 < timeLimitMs) {
    const p0 = now();
    const page = await store.readAll({ after, maxCount: PAGE });
    pageMs.push(now() - p0);
    if (page.length === 0) break;
    events += page.length;
    after = page[page.length - 1]?.position;
  }
  return { events, ms: now() - t0, pageMs };
}

async function rawPass(pool: pg.Pool, expected: number, timeLimitMs: number): Promise<Pass> {
  const pageMs: number[] = [];
  let after = '0';
  let events = 0;
  const t0 = now();
  while (events < expected && now() - t0 < timeLimitMs) {
    const p0 = now();
    const { rows } = await pool.query<{ id: string }>({ name: 'bench_raw_page', text: RAW_PAGE, values: [after, PAGE] });
    pageMs.push(now() - p0);
    if (rows.length === 0) break;
    events += rows.length;
    after = rows[rows.length - 1]?.id ?? after;
  }
  return { events, ms: now() - t0, pageMs };
}

/** Median page time over the last tenth of the log, divided by that over the first tenth. */
function flatness(passes: readonly Pass[]): { first: number; last: number; ratio: number } {
  const first: number[] = [];
  const last: number[] = [];
  for (const p of passes) {
    const tenth = Math.max(1, Math.floor(p.pageMs.length / 10));
    first.push(...p.pageMs.slice(0, tenth));
    last.push(...p.pageMs.slice(-tenth));
  }
  const f = median(first);
  const l = median(last);
  return { first: f, last: l, ratio: l / f };
}

/** Appends `total` events through the port; streams seed-<first>… onwards. Returns how many, and the last position. */
async function seed(store: PostgresEventStore, total: number, first: number): Promise<{ written: number; last: Position }> {
  const appends = Math.ceil(total / EVENTS_PER_SEED_APPEND);
  let written = 0;
  let last = START;
  await forEachConcurrently(appends, 4, 600_000, async (n) => {
    const i = first + n;
    const events: NewEvent[] = [];
    while (events.length < EVENTS_PER_SEED_APPEND) events.push(...paymentCreatedEvents(newPaymentId(), `cus_${i % 500}`, 100 + i));
    const result = await store.append(`seed-${i}`, events, 'no_stream');
    if (comparePositions(result.position, last) > 0) last = result.position;
    written += events.length;
  });
  return { written, last };
}

/** How long the seeded log may stay hidden behind someone else's open transaction. */
const VISIBLE_WITHIN_MS = 120_000;

/**
 * Waits until readers see the whole seeded log. Any transaction holding an xid anywhere on
 * the server hides later commits (docs/architecture.md, "Event store"); on a shared server
 * another benchmark's long batch would otherwise make a pass read nothing.
 */
async function untilVisible(store: PostgresEventStore, last: Position): Promise<void> {
  const deadline = now() + VISIBLE_WITHIN_MS;
  while (comparePositions((await store.headPosition()) ?? START, last) < 0) {
    if (now() > deadline) throw new Error(`the seeded log stayed hidden for ${VISIBLE_WITHIN_MS} ms (a long transaction elsewhere on the server?)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Which of the events table's indexes the readAll passes went through (pg_stat_user_indexes). */
async function indexUse(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ index: string; reads: string }>(
    `SELECT indexrelname AS index, idx_tup_read::text AS reads FROM pg_stat_user_indexes WHERE relname = 'events'`,
  );
  return new Map(rows.map((r) => [r.index, Number(r.reads)]));
}

interface SizeResult {
  readonly rows: Row[];
  readonly portRate: number;
  readonly rawRate: number;
}

/** The timed passes over the log as it is now (`count` events, the baseline holding the same). */
async function measureSize(ctx: BenchContext, pool: pg.Pool, store: PostgresEventStore, count: number): Promise<SizeResult> {
  const rounds = ctx.quick ? 1 : count >= 1_000_000 ? 2 : 3;
  // Generous: a pass that hits it fails the benchmark rather than reporting a partial read.
  const passLimitMs = Math.max(30_000, count / 10);
  // An untimed partial pass each: caches, prepared statements, JIT.
  await portPass(store, Math.min(count, 20_000), passLimitMs);
  await rawPass(pool, Math.min(count, 20_000), passLimitMs);

  // Statistics reach pg_stat_* up to a second after the backend goes idle: let the seeding's
  // and the count's index reads land before the snapshot, not inside the window.
  if (!ctx.quick) await new Promise((resolve) => setTimeout(resolve, 1_200));
  const indexesBefore = await indexUse(pool);
  const port: Pass[] = [];
  const raw: Pass[] = [];
  for (let r = 0; r < rounds; r++) {
    port.push(await portPass(store, count, passLimitMs));
    raw.push(await rawPass(pool, count, passLimitMs));
  }
  for (const p of port) if (p.events !== count) throw new Error(`readAll returned ${p.events} of ${count} events (time limit?)`);

  const portRate = median(port.map(rate));
  const rawRate = median(raw.map(rate));
  const portFlat = flatness(port);
  const rawFlat = flatness(raw);
  ctx.log(`  ${fmtInt(count)} events: readAll ${port.map((p) => `${fmtInt(rate(p))} ev/s`).join(', ')}; raw PK paging: ${raw.map((p) => `${fmtInt(rate(p))} ev/s`).join(', ')}`);
  ctx.log(
    `  page of ${PAGE}: readAll ${fmtMs(portFlat.first)} at the start, ${fmtMs(portFlat.last)} at the end; ` +
      `raw ${fmtMs(rawFlat.first)} → ${fmtMs(rawFlat.last)}`,
  );
  if (!ctx.quick) {
    // Statistics reach pg_stat_* up to a second after the backend goes idle.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const after = await indexUse(pool);
    const used = [...after].map(([index, reads]) => `${index} ${fmtInt(reads - (indexesBefore.get(index) ?? 0))}`).join(', ');
    ctx.log(`  index tuples read on events during the timed readAll passes: ${used}`);
  }

  const ratio = portRate / rawRate;
  const size = `${fmtInt(count)} events, page ${fmtInt(PAGE)}`;
  const rows: Row[] = [
    {
      benchmark: 'readAll, whole log',
      setting: size,
      figure: `${fmtInt(portRate)} ev/s`,
      baseline: `${fmtInt(rawRate)} ev/s (raw PK paging)`,
      ratio,
      target: `≥ ${TARGET_RATIO.toFixed(2)}`,
      pass: ratio >= TARGET_RATIO,
    },
    {
      benchmark: 'readAll page time, end / start of log',
      setting: size,
      figure: `${fmtMs(portFlat.last)} / ${fmtMs(portFlat.first)} = ${portFlat.ratio.toFixed(2)}`,
      baseline: `${fmtMs(rawFlat.last)} / ${fmtMs(rawFlat.first)} = ${rawFlat.ratio.toFixed(2)}`,
      ratio: undefined,
      target: `≤ ${FLATNESS_LIMIT} (flat)`,
      // A short log is read in a few pages: one page at each end is noise, not a trend.
      pass: ctx.quick || count < 100_000 ? undefined : portFlat.ratio <= FLATNESS_LIMIT,
    },
  ];
  return { rows, portRate, rawRate };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const sizes = ctx.quick ? [5_000, 20_000] : [10_000, 100_000, 1_000_000];

  return withBenchDatabase('read_all', async (db) => {
    const pool = db.createPool(POOL_SIZE, 'bench-read-all');
    await migrate(pool, eventStoreMigrations);
    await pool.query(BASELINE_TABLE);
    const store = new PostgresEventStore(pool);
    try {
      const rows: Row[] = [];
      const results: SizeResult[] = [];
      let count = 0;
      for (const target of sizes) {
        const s0 = now();
        const { written: seeded, last } = await seed(store, target - count, count / EVENTS_PER_SEED_APPEND);
        ctx.log(`  seeded ${fmtInt(seeded)} more events through the port (batches of ${EVENTS_PER_SEED_APPEND}) in ${fmtMs(now() - s0)}`);
        await pool.query(FILL_BASELINE, [count]);
        await pool.query('VACUUM (ANALYZE) events');
        await pool.query('VACUUM (ANALYZE) baseline_events');
        await checkpoint(pool);
        count = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0);
        await untilVisible(store, last);
        const result = await measureSize(ctx, pool, store, count);
        results.push(result);
        rows.push(...result.rows);
      }
      const first = results[0];
      const last = results.at(-1);
      if (first !== undefined && last !== undefined && results.length > 1) {
        const portGrowth = last.portRate / first.portRate;
        const rawGrowth = last.rawRate / first.rawRate;
        rows.push({
          benchmark: 'readAll rate, largest / smallest log',
          setting: `${fmtInt(sizes.at(-1) ?? 0)} / ${fmtInt(sizes[0] ?? 0)} events`,
          figure: portGrowth.toFixed(2),
          baseline: `${rawGrowth.toFixed(2)} (raw PK paging)`,
          ratio: portGrowth / rawGrowth,
          target: 'info (flat: ratios above hold)',
          pass: undefined,
        });
      }
      return rows;
    } finally {
      await store.close();
    }
  });
}

export const readAllBenchmark: Benchmark = { name: 'read-all', run };
