import pg from 'pg';
import type { NewEvent, StreamRevision } from '../src/application/ports/event-store.js';
import { PostgresEventStore } from '../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../src/infrastructure/postgres/migrator.js';
import { checkpoint, withBenchDatabase, type BenchDatabase } from './support/db.js';
import { runClosedLoop, type ClosedLoopResult } from './support/load.js';
import { sampleEvent } from './support/payloads.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, summarize } from './support/stats.js';

/*
 * Appends through the event-store port versus raw INSERTs into a comparable table, on the
 * same server, the same database and pools of the same size.
 *
 * Port: PostgresEventStore.append(stream, events, <exact revision>); each writer owns a few
 * streams (created before the measurement) and passes the revision the previous append to
 * that stream returned.
 * Baseline: one INSERT per call into baseline_events (bigint identity PK, jsonb payload),
 * single-row or one multi-row VALUES list of the same size as the batch.
 * Beside it, informational: the same INSERT into same_index_events, a copy of the events
 * table with all its indexes and checks, the client choosing the revisions (no expectation
 * checked, no idempotency): what the log's indexes cost, apart from the append's logic.
 */

/** Same for the port and the baseline, large enough that no writer waits for a connection. */
export const APPEND_POOL_SIZE = 40;
const STREAMS_PER_WRITER = 4;
const TARGET_RATIO = 0.8;

const BASELINE_TABLE = `
CREATE TABLE baseline_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id text NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
)`;

// The events table's columns, defaults, checks and indexes (migration 003), under another name.
const SAME_INDEX_TABLE = `CREATE TABLE same_index_events (LIKE events INCLUDING ALL)`;

function sameIndexInsertSql(rows: number): string {
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p = r * 6;
    values.push(`($${p + 1}, $${p + 2}, $${p + 3}::uuid, $${p + 4}, $${p + 5}::jsonb, $${p + 6}::jsonb)`);
  }
  return `INSERT INTO same_index_events (stream_id, stream_revision, event_id, event_type, data, metadata) VALUES ${values.join(', ')}${rows === 1 ? ' RETURNING global_position' : ''}`;
}

/** Each writer's own stream in same_index_events and its next revision. */
class SameIndexWriters {
  readonly #next = new Map<number, number>();

  constructor(private readonly prefix: string) {}

  values(loop: number, events: readonly NewEvent[]): string[] {
    let revision = this.#next.get(loop) ?? 0;
    const values: string[] = [];
    for (const e of events) values.push(`${this.prefix}-w${loop}`, String(revision++), e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata));
    this.#next.set(loop, revision);
    return values;
  }
}

function baselineInsertSql(rows: number): string {
  const values: string[] = [];
  for (let r = 0; r < rows; r++) values.push(`($${r * 4 + 1}, $${r * 4 + 2}, $${r * 4 + 3}, $${r * 4 + 4})`);
  return `INSERT INTO baseline_events (stream_id, event_type, data, metadata) VALUES ${values.join(', ')}${rows === 1 ? ' RETURNING id' : ''}`;
}

function baselineValues(streamId: string, events: readonly NewEvent[]): string[] {
  const values: string[] = [];
  for (const e of events) values.push(streamId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata));
  return values;
}

function batchOf(size: number, seed: number): NewEvent[] {
  return Array.from({ length: size }, (_, i) => sampleEvent(seed + i));
}

interface Timing {
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxOps: number;
}

async function walPosition(pool: pg.Pool): Promise<bigint> {
  const { rows } = await pool.query<{ wal: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint::text AS wal`);
  return BigInt(rows[0]?.wal ?? '0');
}

/** One measured segment of one side. */
interface Segment {
  readonly result: ClosedLoopResult;
  readonly walBytes: number;
  readonly notifications: number;
}

/** One side of a comparison: its segments, combined. */
interface Measured {
  /** Units per second over all segments. */
  readonly rate: number;
  readonly latencies: Float64Array;
  /**
   * WAL written per event, warm-up included. The WAL position is the server's: anything
   * else writing to another database meanwhile is counted too.
   */
  readonly walBytesPerEvent: number;
  /** NOTIFYs on the event store's channel per append (the adapter sends them out of band). */
  readonly notifiesPerOp: number;
}

/** Counts notifications on the event store's channel (the adapter's default, "ledger_events") while it listens. */
async function notificationCounter(db: BenchDatabase): Promise<{ count(): number; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  let n = 0;
  client.on('notification', () => n++);
  await client.query('LISTEN ledger_events');
  return { count: () => n, close: () => client.end() };
}

type Op = (loop: number, iteration: number) => Promise<number>;

async function segment(db: BenchDatabase, pool: pg.Pool, timing: Timing, concurrency: number, op: Op): Promise<Segment> {
  await checkpoint(pool);
  const notifications = await notificationCounter(db);
  try {
    const walBefore = await walPosition(pool);
    const result = await runClosedLoop({ concurrency, ...timing }, op);
    const walAfter = await walPosition(pool);
    if (result.errors > 0) throw new Error(`${result.errors} failed operations, first: ${result.firstError ?? '?'}`);
    // Notifications arrive asynchronously: give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { result, walBytes: Number(walAfter - walBefore), notifications: notifications.count() };
  } finally {
    await notifications.close();
  }
}

function combine(segments: readonly Segment[], eventsPerOp: number): Measured {
  let units = 0;
  let elapsedMs = 0;
  let allUnits = 0;
  let walBytes = 0;
  let notifications = 0;
  const latencies: number[] = [];
  for (const s of segments) {
    units += s.result.units;
    elapsedMs += s.result.elapsedMs;
    allUnits += s.result.allUnits;
    walBytes += s.walBytes;
    notifications += s.notifications;
    for (const l of s.result.latencies) latencies.push(l);
  }
  return {
    rate: (units * 1000) / Math.max(elapsedMs, 1e-3),
    latencies: Float64Array.from(latencies),
    walBytesPerEvent: walBytes / Math.max(1, allUnits),
    notifiesPerOp: notifications / Math.max(1, allUnits / eventsPerOp),
  };
}

/**
 * Baseline, port and same-indexes INSERT in alternating segments (B P S B P S…), so that a
 * change in background load while the comparison runs affects all sides alike.
 */
async function compareSides(
  db: BenchDatabase,
  pool: pg.Pool,
  timing: Timing,
  segments: number,
  concurrency: number,
  eventsPerOp: number,
  ops: { baseline: Op; port: Op; sameIndexes: Op },
): Promise<{ baseline: Measured; port: Measured; sameIndexes: Measured }> {
  const part: Timing = { ...timing, durationMs: timing.durationMs / segments };
  const b: Segment[] = [];
  const p: Segment[] = [];
  const s: Segment[] = [];
  for (let i = 0; i < segments; i++) {
    b.push(await segment(db, pool, part, concurrency, ops.baseline));
    p.push(await segment(db, pool, part, concurrency, ops.port));
    s.push(await segment(db, pool, part, concurrency, ops.sameIndexes));
  }
  return { baseline: combine(b, eventsPerOp), port: combine(p, eventsPerOp), sameIndexes: combine(s, eventsPerOp) };
}

function describe(m: Measured, unit = 'ev/s'): string {
  const s = summarize(m.latencies);
  return `${fmtInt(m.rate)} ${unit} (p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)})`;
}

function ratioRow(benchmark: string, setting: string, port: Measured, baseline: Measured): Row {
  const ratio = port.rate / baseline.rate;
  return {
    benchmark,
    setting,
    figure: describe(port),
    baseline: describe(baseline),
    ratio,
    target: `≥ ${TARGET_RATIO.toFixed(2)}`,
    pass: ratio >= TARGET_RATIO,
  };
}

/** The same-indexes INSERT beside the 1-index baseline: how much of the gap the log's indexes explain. */
function sameIndexesRow(benchmark: string, setting: string, port: Measured, sameIndexes: Measured, baseline: Measured): Row {
  return {
    benchmark: `${benchmark}: same-indexes INSERT`,
    setting,
    figure: `port ${fmtInt(port.rate)} ev/s = ${(port.rate / sameIndexes.rate).toFixed(2)}× same-indexes INSERT`,
    baseline: `${describe(sameIndexes)} = ${(sameIndexes.rate / baseline.rate).toFixed(2)}× 1-index`,
    ratio: undefined,
    target: 'info',
    pass: undefined,
  };
}

/** Writer w's streams, created before the measurement so that every measured append passes an exact revision. */
class WriterStreams {
  readonly #streams: string[];
  readonly #revisions: StreamRevision[] = [];

  private constructor(streams: string[]) {
    this.#streams = streams;
  }

  static async create(store: PostgresEventStore, prefix: string, writers: number): Promise<WriterStreams[]> {
    return Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const ws = new WriterStreams(Array.from({ length: STREAMS_PER_WRITER }, (_, s) => `${prefix}-w${w}-s${s}`));
        for (const stream of ws.#streams) {
          const r = await store.append(stream, [sampleEvent(w)], 'no_stream');
          ws.#revisions.push(r.nextExpectedRevision);
        }
        return ws;
      }),
    );
  }

  /** Appends `events` to the next stream in turn at its exact revision. */
  async append(store: PostgresEventStore, iteration: number, events: readonly NewEvent[]): Promise<void> {
    const k = iteration % this.#streams.length;
    const result = await store.append(this.#streams[k] as string, events, this.#revisions[k] as StreamRevision);
    this.#revisions[k] = result.nextExpectedRevision;
  }
}

async function run(ctx: BenchContext): Promise<Row[]> {
  // Per segment: warm-up, then durationMs / segments measured.
  const timing: Timing = ctx.quick ? { warmupMs: 200, durationMs: 800, maxOps: 200_000 } : { warmupMs: 500, durationMs: 4_000, maxOps: 1_000_000 };
  const batchTiming: Timing = ctx.quick ? { warmupMs: 200, durationMs: 800, maxOps: 20_000 } : { warmupMs: 400, durationMs: 3_000, maxOps: 100_000 };
  // Many short alternations rather than a few long ones: background load on a shared machine
  // comes in bursts, and a burst should fall on every side alike.
  const segments = ctx.quick ? 1 : 4;
  const singleLevels = [1, 8, 32];
  const batchSizes = [10, 100];
  const batchLevels = ctx.quick ? [8] : [1, 8];
  const plural = (writers: number): string => `${writers} writer${writers === 1 ? '' : 's'}`;

  return withBenchDatabase('appends', async (db) => {
    const pool = db.createPool(APPEND_POOL_SIZE, 'bench-appends');
    await migrate(pool, eventStoreMigrations);
    await pool.query(BASELINE_TABLE);
    await pool.query(SAME_INDEX_TABLE);
    const store = new PostgresEventStore(pool);
    const rows: Row[] = [];
    try {
      for (const writers of singleLevels) {
        const streams = await WriterStreams.create(store, `single-c${writers}`, writers);
        const same = new SameIndexWriters(`same-single-c${writers}`);
        const { baseline, port, sameIndexes } = await compareSides(db, pool, timing, segments, writers, 1, {
          baseline: async (loop, i) => {
            await pool.query({ name: 'bench_insert_1', text: baselineInsertSql(1), values: baselineValues(`base-w${loop}`, [sampleEvent(i)]) });
            return 1;
          },
          port: async (loop, i) => {
            await (streams[loop] as WriterStreams).append(store, i, [sampleEvent(i)]);
            return 1;
          },
          sameIndexes: async (loop, i) => {
            await pool.query({ name: 'bench_same_1', text: sameIndexInsertSql(1), values: same.values(loop, [sampleEvent(i)]) });
            return 1;
          },
        });
        ctx.log(
          `  single append, ${plural(writers)}: port ${describe(port)}; raw INSERT ${describe(baseline)}; ` +
            `WAL/event ${fmtInt(port.walBytesPerEvent)} B vs ${fmtInt(baseline.walBytesPerEvent)} B (server-wide); NOTIFY/append ${port.notifiesPerOp.toFixed(2)}`,
        );
        rows.push(ratioRow('append, 1 event (exact revision)', plural(writers), port, baseline));
        rows.push(sameIndexesRow('append, 1 event', plural(writers), port, sameIndexes, baseline));
      }

      for (const size of batchSizes) {
        for (const writers of batchLevels) {
          const streams = await WriterStreams.create(store, `batch${size}-c${writers}`, writers);
          const same = new SameIndexWriters(`same-batch${size}-c${writers}`);
          const { baseline, port, sameIndexes } = await compareSides(db, pool, batchTiming, segments, writers, size, {
            baseline: async (loop, i) => {
              await pool.query({ name: `bench_insert_${size}`, text: baselineInsertSql(size), values: baselineValues(`base-w${loop}`, batchOf(size, i)) });
              return size;
            },
            port: async (loop, i) => {
              await (streams[loop] as WriterStreams).append(store, i, batchOf(size, i));
              return size;
            },
            sameIndexes: async (loop, i) => {
              await pool.query({ name: `bench_same_${size}`, text: sameIndexInsertSql(size), values: same.values(loop, batchOf(size, i)) });
              return size;
            },
          });
          ctx.log(
            `  batch append of ${size}, ${plural(writers)}: port ${describe(port)}; multi-row INSERT ${describe(baseline)}; ` +
              `WAL/event ${fmtInt(port.walBytesPerEvent)} B vs ${fmtInt(baseline.walBytesPerEvent)} B (server-wide); NOTIFY/append ${port.notifiesPerOp.toFixed(2)}`,
          );
          rows.push(ratioRow(`append, batch of ${size}`, plural(writers), port, baseline));
          rows.push(sameIndexesRow(`append, batch of ${size}`, plural(writers), port, sameIndexes, baseline));
        }
      }
    } finally {
      await store.close();
    }
    return rows;
  });
}

export const appendsBenchmark: Benchmark = { name: 'appends', run };
