import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { EventStore, RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { formatPosition } from '../../src/application/ports/position.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { ledgerProjection } from '../../src/projections/ledger/ledger-projection.js';
import { SqlLedgerQueries } from '../../src/projections/ledger/ledger-queries.js';
import { postingsFor } from '../../src/projections/ledger/posting-rules.js';
import { paymentsProjection } from '../../src/projections/payments/payments-projection.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { Step } from './support/ledger-scenarios.js';
import { playScenario } from './support/ledger-scenarios.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually } from './support/test-projections.js';

/*
 * The ledger against real PostgreSQL: the runner posts it, the database refuses unbalanced
 * entries and any UPDATE/DELETE/TRUNCATE, and a rebuild or an audit replays it into a
 * scratch schema with the same entries (same event ids and positions) and the triggers
 * still on.
 */

let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let queries: SqlLedgerQueries;
/** The log as appended: each event with the position the store gave it. */
const appended: RecordedEvent[] = [];

const HISTORY: Step[] = [
  { kind: 'create', payment: 0, amount: 10_000, currency: 'USD', automatic: true, declined: false },
  { kind: 'create', payment: 1, amount: 5_000, currency: 'EUR', automatic: false, declined: false },
  { kind: 'create', payment: 2, amount: 700, currency: 'USD', automatic: false, declined: false },
  { kind: 'capture', payment: 1, percent: 60 },
  { kind: 'cancel', payment: 2 },
  { kind: 'refund', payment: 0, percent: 25 },
  { kind: 'refund', payment: 0, percent: 10 },
  { kind: 'refund', payment: 1, percent: undefined },
  { kind: 'resolve', refund: 0, outcome: 'succeeded', paymentFirst: false },
  { kind: 'resolve', refund: 0, outcome: 'failed', paymentFirst: true },
];

/** Appends events (as a scenario recorded them) to the real store, one at a time, in order. */
async function appendAll(store: EventStore, events: readonly RecordedEvent[]): Promise<Position> {
  let last: Position | undefined;
  for (const e of events) {
    const result = await store.append(e.streamId, [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }], e.revision === 0n ? 'no_stream' : streamRevision(e.revision - 1n));
    appended.push({ ...e, position: result.position });
    last = result.position;
  }
  if (!last) throw new Error('nothing appended');
  return last;
}

const rows = async (pool: pg.Pool, text: string): Promise<Record<string, unknown>[]> => (await pool.query<Record<string, unknown>>(text)).rows;

beforeAll(async () => {
  t = await projectionTestDatabase('ledger_projection');
  service = t.instance('ledger');
  const last = await appendAll(service.eventStore, playScenario(HISTORY).events);
  runner = new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [paymentsProjection, ledgerProjection] }, { leaseRetryMs: 100, batchSize: 4 });
  runner.start();
  await eventually(() => reached(service.pool, 'ledger', last), 15_000, 'ledger caught up');
  queries = new SqlLedgerQueries(sqlExecutor(service.pool));
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

describe('ledger projection', () => {
  it('posts one entry per money-moving event, keeping its event id and log position', async () => {
    const expected = appended.filter((e) => postingsFor(e)).map((e) => ({ id: e.id, position: formatPosition(e.position), type: e.type }));
    expect(expected.map((e) => e.type)).toEqual([
      'PaymentCaptured', 'PaymentCaptured', 'PaymentRefundReserved', 'PaymentRefundReserved', 'PaymentRefundReserved',
      'RefundSucceeded', 'PaymentRefundSettled', 'PaymentRefundReleased',
    ]);
    const stored = await rows(
      service.pool,
      `SELECT event_id::text AS id, position_commit::text || '.' || position_prepare::text AS position, event_type AS type
         FROM rm_ledger.ledger_entries ORDER BY position_commit, position_prepare`,
    );
    expect(stored).toEqual(expected);
  });

  it('balances every currency, and each account shows what the rules posted', async () => {
    const trial = await queries.trialBalance(undefined);
    expect(trial.data).toEqual([
      { currency: 'EUR', debits: 6_000, credits: 6_000 },
      // capture 10,000; reserve 2,500 and 750 (10 % of the 7,500 left); 2,500 succeeds and settles; 750 is released.
      { currency: 'USD', debits: 19_000, credits: 19_000 },
    ]);
    expect(trial.checkpoint).toBe(formatPosition(appended.at(-1)!.position));
    const usd = async (account: string) => (await queries.accountTotals(account, 'USD', undefined)).data;
    expect(await usd('revenue')).toEqual([{ currency: 'USD', debits: 0, credits: 10_000 }]);
    expect(await usd('refunds')).toEqual([{ currency: 'USD', debits: 2_500, credits: 0 }]);
    expect(await usd('provider_clearing')).toEqual([{ currency: 'USD', debits: 10_000, credits: 2_500 }]);
    expect(await usd('refunds_pending')).toEqual([{ currency: 'USD', debits: 3_250, credits: 3_250 }]);
    // The EUR refund is still open: its reservation shows.
    expect((await queries.accountTotals('refunds_pending', undefined, undefined)).data).toEqual([
      { currency: 'EUR', debits: 0, credits: 3_000 },
      { currency: 'USD', debits: 3_250, credits: 3_250 },
    ]);
    expect((await queries.accountTotals('bank', undefined, undefined)).data).toEqual([]);
  });

  it('answers point-in-time balances by log position and by time', async () => {
    const firstRefund = appended.find((e) => e.type === 'RefundSucceeded')!;
    const before = appended[appended.indexOf(firstRefund) - 1]!;
    const at = (position: Position) => queries.accountTotals('refunds', 'USD', { kind: 'position', position });
    expect((await at(before.position)).data).toEqual([]);
    expect((await at(firstRefund.position)).data).toEqual([{ currency: 'USD', debits: 2_500, credits: 0 }]);
    const byTime = await queries.accountTotals('provider_clearing', 'USD', { kind: 'time', at: new Date(before.metadata.occurredAt) });
    expect(byTime.data).toEqual([{ currency: 'USD', debits: 10_000, credits: 0 }]);
    const trialThen = await queries.trialBalance({ kind: 'position', position: appended[0]!.position });
    expect(trialThen.data).toEqual([]);
  });

  it('lists entries newest first, filtered and paged', async () => {
    const all = await queries.entries({ limit: 100 });
    expect(all.ok && all.value.data.length).toBe(8);
    const page1 = await queries.entries({ account: 'revenue', limit: 1 });
    if (!page1.ok) throw new Error('page refused');
    expect(page1.value.data.map((e) => e.eventType)).toEqual(['PaymentCaptured']);
    expect(page1.value.data[0]!.postings.map((p) => p.account)).toEqual(['provider_clearing', 'revenue']);
    const page2 = await queries.entries({ account: 'revenue', limit: 1, cursor: page1.value.nextCursor! });
    if (!page2.ok) throw new Error('page refused');
    expect(page2.value.data).toHaveLength(1);
    expect(page2.value.nextCursor).toBeNull();
    expect(page2.value.data[0]!.id).not.toBe(page1.value.data[0]!.id);
    const paymentId = appended[0]!.streamId.slice('payment-'.length);
    const ofPayment = await queries.entries({ paymentId, limit: 100 });
    expect(ofPayment.ok && ofPayment.value.data.every((e) => e.paymentId === paymentId)).toBe(true);
    expect(ofPayment.ok && ofPayment.value.data.length).toBe(6);
    const later = await queries.entries({ from: new Date(appended.find((e) => e.type === 'RefundSucceeded')!.metadata.occurredAt), limit: 100 });
    expect(later.ok && later.value.data.map((e) => e.eventType)).toEqual(['PaymentRefundReleased', 'PaymentRefundSettled', 'RefundSucceeded']);
    expect(await queries.entries({ cursor: 'bm9wZQ' })).toMatchObject({ ok: false });
  });

  it('announces each entry on the ledger topic in the batch that posted it', async () => {
    const changes = await rows(service.pool, `SELECT type, data->>'eventId' AS id FROM realtime_changes WHERE topic = 'ledger' ORDER BY id`);
    expect(changes.map((c) => c.type)).toEqual(Array(8).fill('ledger.entry'));
    expect(new Set(changes.map((c) => c.id))).toEqual(new Set(appended.filter((e) => postingsFor(e)).map((e) => e.id)));
  });
});

describe('the database enforces double entry', () => {
  const client = async <T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await service.pool.connect();
    try {
      return await work(c);
    } finally {
      c.release();
    }
  };
  const ENTRY = `INSERT INTO rm_ledger.ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description)
                 VALUES ($1, 'Manual', $2, 0, now(), 'direct SQL')`;
  const POSTING = `INSERT INTO rm_ledger.ledger_postings (entry_id, line, account, currency, side, amount, position_commit, position_prepare, occurred_at)
                   VALUES ($1, $2, $3, $4, $5, $6, 0, 0, now())`;
  let n = 0;
  const nextEntry = (): [string, number] => [crypto.randomUUID(), 900_000 + ++n];

  it('commits a balanced entry written by hand (so the refusals below are about balance)', async () => {
    const [id, pos] = nextEntry();
    await client(async (c) => {
      await c.query('BEGIN');
      await c.query(ENTRY, [id, pos]);
      await c.query(`${POSTING}, ($1, 1, 'revenue', 'GBP', 'credit', 5, 0, 0, now())`, [id, 0, 'provider_clearing', 'GBP', 'debit', 5]);
      await c.query('COMMIT');
    });
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM rm_ledger.ledger_postings WHERE currency = 'GBP'`)).toEqual([{ n: 2 }]);
  });

  it('refuses an entry whose debits and credits differ', async () => {
    const [id, pos] = nextEntry();
    await expect(
      client(async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(ENTRY, [id, pos]);
          await c.query(`${POSTING}, ($1, 1, 'revenue', 'GBP', 'credit', 4, 0, 0, now())`, [id, 0, 'provider_clearing', 'GBP', 'debit', 5]);
          await c.query('COMMIT');
        } finally {
          await c.query('ROLLBACK');
        }
      }),
    ).rejects.toThrow(/debits and credits differ in GBP/);
  });

  it('refuses an entry balanced in total but not per currency', async () => {
    const [id, pos] = nextEntry();
    await expect(
      client(async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(ENTRY, [id, pos]);
          await c.query(`${POSTING}, ($1, 1, 'revenue', 'EUR', 'credit', 5, 0, 0, now())`, [id, 0, 'provider_clearing', 'GBP', 'debit', 5]);
        } finally {
          await c.query('ROLLBACK');
        }
      }),
    ).rejects.toThrow(/debits and credits differ/);
  });

  it('refuses at COMMIT an entry left without postings (the deferred constraint trigger)', async () => {
    const [id, pos] = nextEntry();
    await client(async (c) => {
      await c.query('BEGIN');
      await c.query(ENTRY, [id, pos]);
      await expect(c.query('COMMIT')).rejects.toThrow(/has no postings/);
    });
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM rm_ledger.ledger_entries WHERE event_id = '${id}'`)).toEqual([{ n: 0 }]);
  });

  it('refuses postings added later that unbalance a committed entry, or name no entry', async () => {
    const [entry] = (await rows(service.pool, `SELECT event_id::text AS id FROM rm_ledger.ledger_entries WHERE event_type = 'PaymentCaptured' LIMIT 1`)) as { id: string }[];
    await expect(service.pool.query(POSTING, [entry!.id, 9, 'refunds', 'USD', 'debit', 1])).rejects.toThrow(/debits and credits differ in USD/);
    await expect(service.pool.query(POSTING, [crypto.randomUUID(), 0, 'refunds', 'USD', 'debit', 1])).rejects.toThrow(/names no entry/);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of entries and postings', async () => {
    const attempts = [
      `UPDATE rm_ledger.ledger_postings SET amount = amount + 1 WHERE line = 0`,
      `UPDATE rm_ledger.ledger_entries SET description = 'edited'`,
      `DELETE FROM rm_ledger.ledger_postings`,
      `DELETE FROM rm_ledger.ledger_entries`,
      `TRUNCATE rm_ledger.ledger_postings`,
      `TRUNCATE rm_ledger.ledger_entries CASCADE`,
    ];
    for (const sql of attempts) await expect(service.pool.query(sql), sql).rejects.toThrow(/append-only/);
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM rm_ledger.ledger_entries`)).toEqual([{ n: 9 }]);
  });
});

describe('rebuild and audit', () => {
  it('audits (a hand-written entry is a difference), rebuilds into a shadow schema and switches, keeping every entry once', async () => {
    const snapshot = async () =>
      rows(service.pool, `SELECT event_id::text, position_commit::text, position_prepare::text FROM rm_ledger.ledger_entries WHERE event_type <> 'Manual' ORDER BY 2, 3`);
    const before = await snapshot();
    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [paymentsProjection, ledgerProjection] }, { batchSize: 3 });
    // The hand-written GBP entry above is not in the log, so the audit must see it as the one difference.
    const audit = await rebuilder.audit('ledger');
    if (!audit.ok) throw new Error(`audit failed: ${JSON.stringify(audit.error)}`);
    expect(audit.value.matches).toBe(false);
    const rebuilt = await rebuilder.rebuild('ledger');
    if (!rebuilt.ok) throw new Error(`rebuild failed: ${JSON.stringify(rebuilt.error)}`);
    expect(await snapshot()).toEqual(before);
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM rm_ledger.ledger_entries WHERE event_type = 'Manual'`)).toEqual([{ n: 0 }]);
    const again = await rebuilder.audit('ledger');
    expect(again.ok && again.value.matches).toBe(true);
    expect(await rows(service.pool, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm_ledger%' ORDER BY 1`)).toEqual([{ nspname: 'rm_ledger' }]);
    // The rebuilt schema's triggers follow the rename.
    await expect(service.pool.query(`DELETE FROM rm_ledger.ledger_postings`)).rejects.toThrow(/append-only/);
    await expect(service.pool.query(`UPDATE rm_ledger.ledger_postings SET amount = 1`)).rejects.toThrow(/append-only/);
  });

  it('goes on posting after the switch, once per event', async () => {
    const more = playScenario([...HISTORY, { kind: 'resolve', refund: 0, outcome: 'succeeded', paymentFirst: true }]).events.slice(-2);
    // The same history plus one step: its last two events continue the streams already in the log.
    const last = await appendAll(service.eventStore, more);
    await eventually(() => reached(service.pool, 'ledger', last), 15_000, 'ledger caught up again');
    const trial = await queries.trialBalance(undefined);
    for (const c of trial.data) expect(c.debits).toBe(c.credits);
    expect(await rows(service.pool, `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM rm_ledger.ledger_entries`)).toEqual([{ n: 10, d: 10 }]);
    expect((await queries.accountTotals('refunds_pending', 'EUR', undefined)).data).toEqual([{ currency: 'EUR', debits: 3_000, credits: 3_000 }]);
  });
});

describe('the balance check follows a schema rename (a rebuild switches schemas before it commits)', () => {
  const scratch = async (schema: string): Promise<void> => {
    const c = await service.pool.connect();
    try {
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.query(`SET search_path TO ${schema}`);
      await c.query(ledgerProjection.schemaSql);
    } finally {
      await c.query('RESET search_path');
      c.release();
    }
  };
  const insertAndRename = async (from: string, to: string, postings: string): Promise<void> => {
    const c = await service.pool.connect();
    const id = crypto.randomUUID();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO ${from}.ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description) VALUES ($1, 'Manual', 1, 1, now(), 'x')`, [id]);
      if (postings) await c.query(`INSERT INTO ${from}.ledger_postings (entry_id, line, account, currency, side, amount, position_commit, position_prepare, occurred_at) VALUES ${postings.replaceAll('$id', `'${id}'`)}`);
      await c.query(`ALTER SCHEMA ${from} RENAME TO ${to}`);
      await c.query('COMMIT');
    } catch (error) {
      await c.query('ROLLBACK');
      throw error;
    } finally {
      c.release();
    }
  };

  it('checks at COMMIT, in the renamed schema', async () => {
    await scratch('ledger_scratch_a');
    await insertAndRename('ledger_scratch_a', 'ledger_scratch_b', `($id, 0, 'revenue', 'USD', 'credit', 3, 1, 1, now()), ($id, 1, 'provider_clearing', 'USD', 'debit', 3, 1, 1, now())`);
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM ledger_scratch_b.ledger_postings`)).toEqual([{ n: 2 }]);
    await scratch('ledger_scratch_c');
    await expect(insertAndRename('ledger_scratch_c', 'ledger_scratch_d', '')).rejects.toThrow(/has no postings/);
    expect(await rows(service.pool, `SELECT count(*)::int AS n FROM ledger_scratch_c.ledger_entries`)).toEqual([{ n: 0 }]);
    await service.pool.query('DROP SCHEMA ledger_scratch_b CASCADE; DROP SCHEMA ledger_scratch_c CASCADE');
  });
});

describe('indexes serve the ledger queries', () => {
  /** The plan of every statement `work` runs through the queries, with sequential scans priced out. */
  async function plansOf(work: (q: SqlLedgerQueries) => Promise<unknown>): Promise<string[]> {
    const statements: { text: string; params: readonly unknown[] }[] = [];
    const spy = new SqlLedgerQueries({
      query: (text, params) => {
        statements.push({ text, params: params ?? [] });
        return service.pool.query(text, params as unknown[]) as never;
      },
    });
    await work(spy);
    const c = await service.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_seqscan = off');
      const plans = [];
      for (const s of statements) plans.push(JSON.stringify((await c.query(`EXPLAIN (FORMAT JSON) ${s.text}`, s.params as unknown[])).rows));
      return plans;
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  }

  it('a balance as of a position or a time reads one index of the postings', async () => {
    const [byPosition] = await plansOf((q) => q.accountTotals('revenue', 'USD', { kind: 'position', position: appended.at(-1)!.position }));
    expect(byPosition).toContain('ledger_postings_account_position');
    const [byTime] = await plansOf((q) => q.accountTotals('revenue', 'USD', { kind: 'time', at: new Date() }));
    expect(byTime).toContain('ledger_postings_account_time');
  });

  it('entries of a payment walk (payment_id, position); a page of entries walks the position index', async () => {
    const paymentId = appended[0]!.streamId.slice('payment-'.length);
    const [ofPayment] = await plansOf((q) => q.entries({ paymentId, limit: 10 }));
    expect(ofPayment).toContain('ledger_entries_payment');
    const [page] = await plansOf((q) => q.entries({ limit: 10 }));
    expect(page).toContain('ledger_entries_position_unique');
  });
});
