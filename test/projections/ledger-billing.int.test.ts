import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceIssued } from '../../src/domain/invoice/index.js';
import type { SubscriptionId } from '../../src/domain/ids.js';
import { sqlExecutor } from '../../src/infrastructure/postgres/sql-executor.js';
import { ledgerProjection } from '../../src/projections/ledger/ledger-projection.js';
import { SqlLedgerQueries } from '../../src/projections/ledger/ledger-queries.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import type { BillingHarness } from './support/billing-harness.js';
import { billingHarness, userCtx } from './support/billing-harness.js';
import type { Instance, ProjectionTestDatabase } from './support/postgres-setup.js';
import { projectionTestDatabase, reached } from './support/postgres-setup.js';
import { refundProratedCancels } from './support/proration-refunds.js';
import { eventually } from './support/test-projections.js';

/*
 * A subscription's life driven through the real application code (subscriptions, a test
 * clock, the billing process manager, payments on the simulated processor) over the
 * PostgreSQL event store, posted by the ledger projection's runner in small batches, and
 * read back through the ledger queries: revenue follows the served periods, invoice
 * payments settle receivables, a proration credit comes out of deferred revenue, a prorated
 * cancel's refund pays back its credit, the trial balance is zero, and a rebuild (also the one a version upgrade makes) posts the same.
 */

let t: ProjectionTestDatabase;
let service: Instance;
let runner: ProjectionRunner;
let queries: SqlLedgerQueries;
let h: BillingHarness;
let clockId: string;
let subscriptionId: SubscriptionId;

const startRunner = (): ProjectionRunner => {
  const r = new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [ledgerProjection] }, { leaseRetryMs: 100, batchSize: 5 });
  r.start();
  return r;
};

beforeAll(async () => {
  t = await projectionTestDatabase('ledger_billing');
  service = t.instance('ledger');
  h = billingHarness(service.eventStore);
  queries = new SqlLedgerQueries(sqlExecutor(service.pool));
  const created = await h.clocks.create(new Date('2026-01-15T12:00:00Z'), 'ledger', userCtx);
  if (!created.ok) throw new Error(created.error.code);
  clockId = created.value.testClockId;
});

afterAll(async () => {
  await runner?.stop();
  await t?.drop();
});

/**
 * Lets billing settle, then runs the ledger until it has every event appended so far (in
 * batches of 5, from its checkpoint; the runner starts and stops around each wait, so the
 * version test below can change what is stored while none runs).
 */
async function caughtUp(): Promise<void> {
  await h.settle();
  const head: Position | undefined = await service.eventStore.headPosition();
  runner = startRunner();
  try {
    await eventually(async () => {
      const failure = (await service.store.read(['ledger']))[0]?.failure;
      if (failure) throw new Error(`ledger failed: ${JSON.stringify(failure)}`);
      return reached(service.pool, 'ledger', head);
    }, 15_000, 'ledger caught up');
  } finally {
    await runner.stop();
  }
}

async function balance(account: string): Promise<number> {
  const totals = (await queries.accountTotals(account, 'USD', undefined)).data[0];
  if (!totals) return 0;
  // Debit-normal accounts here are assets and expenses; the rest credit-normal.
  const debitNormal = ['provider_clearing', 'accounts_receivable', 'bad_debt', 'refunds'].includes(account);
  return debitNormal ? totals.debits - totals.credits : totals.credits - totals.debits;
}

async function advance(to: string): Promise<void> {
  const r = await h.clocks.advance(clockId as never, new Date(to), userCtx);
  if (!r.ok) throw new Error(r.error.code);
  await caughtUp();
}

const issued = (): InvoiceIssued['data'][] => h.log.filter((e: RecordedEvent) => e.type === 'InvoiceIssued').map((e) => e.data as InvoiceIssued['data']);
const paidTotal = (invoices: readonly InvoiceIssued['data'][]): number => {
  const paid = new Set(h.log.filter((e) => e.type === 'InvoicePaid').map((e) => (e.data as { invoiceId: string }).invoiceId));
  return invoices.filter((i) => paid.has(i.invoiceId)).reduce((s, i) => s + i.total, 0);
};

async function expectTrialBalanceZero(): Promise<void> {
  const trial = await queries.trialBalance(undefined);
  expect(trial.data.length).toBeGreaterThan(0);
  for (const c of trial.data) expect(c.debits, `${c.currency} balances`).toBe(c.credits);
}

describe('ledger postings of a subscription through the real billing code', () => {
  it('the first invoice is paid: cash in, nothing receivable, all of it deferred', async () => {
    const sub = await h.subscriptions.create(
      { customerId: 'cus_led', price: { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId },
      userCtx,
    );
    if (!sub.ok) throw new Error(sub.error.code);
    subscriptionId = sub.value.state.subscriptionId;
    await caughtUp();
    expect(await balance('provider_clearing')).toBe(2_000);
    expect(await balance('accounts_receivable')).toBe(0);
    expect(await balance('deferred_revenue')).toBe(2_000);
    expect(await balance('revenue')).toBe(0);
    await expectTrialBalanceZero();
  });

  it('after two renewals: revenue is the paid invoices whose periods were served, deferred the current period only', async () => {
    await advance('2026-03-20T00:00:00Z');
    const invoices = issued();
    expect(invoices.map((i) => i.periodStart)).toEqual(['2026-01-15T12:00:00.000Z', '2026-02-15T12:00:00.000Z', '2026-03-15T12:00:00.000Z']);
    expect(await balance('revenue')).toBe(paidTotal(invoices.slice(0, 2)));
    expect(await balance('revenue')).toBe(4_000);
    expect(await balance('deferred_revenue')).toBe(2_000);
    expect(await balance('accounts_receivable')).toBe(0);
    // Invoice payments are no longer revenue on capture: cash is every paid invoice.
    expect(await balance('provider_clearing')).toBe(paidTotal(invoices));
    await expectTrialBalanceZero();
  });

  it('a prorated price change: its credit comes out of deferred revenue, its charge is deferred, its net paid', async () => {
    await advance('2026-03-30T12:00:00Z');
    const changed = await h.subscriptions.changePrice(subscriptionId, { amount: 3_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 }, true, userCtx);
    expect(changed.ok).toBe(true);
    await caughtUp();
    const change = issued().at(-1);
    const credit = -(change?.lines.find((l) => l.kind === 'proration_credit')?.amount ?? 0);
    const charge = change?.lines.find((l) => l.kind === 'proration_charge')?.amount ?? 0;
    // 16 of March 15 → April 15's 31 days left: 2000 × 16/31 and 3000 × 16/31, rounded half up.
    expect([credit, charge]).toEqual([1_032, 1_548]);
    expect(await balance('deferred_revenue')).toBe(2_000 - credit + charge);
    expect(await balance('revenue')).toBe(4_000);
    expect(await balance('accounts_receivable')).toBe(0);
    const entries = await queries.entries({ account: 'deferred_revenue', limit: 100 });
    const issuedEntry = entries.ok ? entries.value.data.find((e) => e.eventType === 'InvoiceIssued' && e.description.includes(change?.invoiceId ?? '?')) : undefined;
    expect(issuedEntry?.postings.map((p) => `${p.side} ${p.account} ${p.amount}`)).toEqual([`debit accounts_receivable ${charge - credit}`, `credit deferred_revenue ${charge - credit}`]);
    await expectTrialBalanceZero();
  });

  it('the next period recognises the rest of March and the proration; deferred is April at the new price', async () => {
    await advance('2026-04-20T00:00:00Z');
    const invoices = issued();
    const current = invoices.at(-1);
    expect(current).toMatchObject({ periodStart: '2026-04-15T12:00:00.000Z', total: 3_000 });
    expect(await balance('revenue')).toBe(paidTotal(invoices) - 3_000);
    expect(await balance('deferred_revenue')).toBe(3_000);
    expect(await balance('accounts_receivable')).toBe(0);
    expect(await balance('provider_clearing')).toBe(paidTotal(invoices));
    await expectTrialBalanceZero();
  });

  it('a renewal that is never paid: receivable, then written off when dunning gives up; the canceled subscription recognises the rest', async () => {
    await h.subscriptions.update(subscriptionId, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }, userCtx);
    await advance('2026-05-16T00:00:00Z');
    expect(await balance('accounts_receivable')).toBe(3_000);
    await advance('2026-05-25T00:00:00Z');
    const statuses = h.log.filter((e) => e.type === 'SubscriptionCanceled').map((e) => (e.data as { cause: string }).cause);
    expect(statuses).toEqual(['dunning_exhausted']);
    expect(await balance('accounts_receivable')).toBe(0);
    expect(await balance('bad_debt')).toBe(3_000);
    expect(await balance('deferred_revenue')).toBe(0);
    const invoices = issued();
    expect(await balance('revenue')).toBe(invoices.reduce((s, i) => s + i.total, 0));
    await expectTrialBalanceZero();
  });

  it('a prorated cancel refunded through the refund path: revenue is the served part, the refund pays back the credit, nothing is owed', async () => {
    const accounts = ['revenue', 'deferred_revenue', 'customer_credit', 'refunds', 'provider_clearing', 'accounts_receivable'] as const;
    const snapshot = async (): Promise<Record<string, number>> => Object.fromEntries(await Promise.all(accounts.map(async (a) => [a, await balance(a)] as const)));
    const before = await snapshot();
    // The clock stands at May 25th 00:00: a period to June 25th, 31 days.
    const sub = await h.subscriptions.create(
      { customerId: 'cus_led2', price: { amount: 3_100, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId },
      userCtx,
    );
    if (!sub.ok) throw new Error(sub.error.code);
    await advance('2026-06-04T00:00:00Z');
    const canceled = await h.subscriptions.cancel(sub.value.state.subscriptionId, true, userCtx);
    expect(canceled.ok).toBe(true);
    await h.settle();
    const refunds = await refundProratedCancels(service.eventStore, h.log, () => new Date());
    // 21 of 31 days unused: 3100 × 21/31.
    expect(refunds.map((r) => [r.amount, r.outcome])).toEqual([[2_100, 'succeeded']]);
    await caughtUp();
    const after = await snapshot();
    const delta = Object.fromEntries(accounts.map((a) => [a, (after[a] ?? 0) - (before[a] ?? 0)]));
    expect(delta).toEqual({ revenue: 1_000, deferred_revenue: 0, customer_credit: 0, refunds: 0, provider_clearing: 1_000, accounts_receivable: 0 });
    const entries = await queries.entries({ account: 'customer_credit', limit: 10 });
    const refundEntry = entries.ok ? entries.value.data.find((e) => e.eventType === 'RefundSucceeded') : undefined;
    expect(refundEntry?.postings.map((p) => `${p.side} ${p.account} ${p.amount}`)).toEqual(['debit customer_credit 2100', 'credit provider_clearing 2100']);
    const held = await service.pool.query<{ n: string }>(`SELECT coalesce(sum(cancel_credit), 0) AS n FROM rm_ledger.ledger_invoices`);
    expect(Number(held.rows[0]?.n)).toBe(0);
    await expectTrialBalanceZero();
  });

  it('a rebuild posts the same ledger and the same books (audit matches)', async () => {
    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [ledgerProjection] }, { batchSize: 7 });
    const audit = await rebuilder.audit('ledger');
    if (!audit.ok) throw new Error(`audit failed: ${JSON.stringify(audit.error)}`);
    expect(audit.value.matches).toBe(true);
    const all = ['revenue', 'deferred_revenue', 'accounts_receivable', 'bad_debt', 'provider_clearing', 'customer_credit', 'refunds'];
    const before = await Promise.all(all.map(balance));
    const rebuilt = await rebuilder.rebuild('ledger');
    if (!rebuilt.ok) throw new Error(`rebuild failed: ${JSON.stringify(rebuilt.error)}`);
    expect(await Promise.all(all.map(balance))).toEqual(before);
    const books = await service.pool.query<{ n: string }>(`SELECT count(*) AS n FROM rm_ledger.ledger_invoices WHERE receivable <> 0 OR deferred <> 0`);
    expect(Number(books.rows[0]?.n)).toBe(0);
  });

  it('the whole log applied again changes no books and posts nothing', async () => {
    const client = await service.pool.connect();
    const booksNow = async (): Promise<Record<string, unknown>[]> => [
      ...(await client.query<Record<string, unknown>>('SELECT * FROM ledger_invoices ORDER BY invoice_id')).rows,
      ...(await client.query<Record<string, unknown>>('SELECT * FROM ledger_invoice_payments ORDER BY payment_id')).rows,
    ];
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL search_path = rm_ledger');
      const before = await booksNow();
      expect(before.length).toBeGreaterThan(5);
      const relevant = h.log.filter((e) => ledgerProjection.eventTypes.includes(e.type));
      expect(await ledgerProjection.applyBatch!(sqlExecutor(client), relevant)).toEqual([]);
      expect(await booksNow()).toEqual(before);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('a ledger stored by version 2 (books without cancel_credit) is rebuilt by the current version on its own', async () => {
    const before = await Promise.all(['revenue', 'customer_credit', 'refunds', 'provider_clearing'].map(balance));
    const client: pg.PoolClient = await service.pool.connect();
    try {
      await client.query(`UPDATE projection_checkpoints SET version = 2 WHERE name = 'ledger'`);
      await client.query(`ALTER TABLE rm_ledger.ledger_invoices DROP COLUMN cancel_credit`);
    } finally {
      client.release();
    }
    runner = startRunner();
    try {
      await eventually(async () => (await service.store.read(['ledger']))[0]?.version === ledgerProjection.version, 20_000, `rebuilt as version ${ledgerProjection.version}`);
    } finally {
      await runner.stop();
    }
    await caughtUp();
    expect(await Promise.all(['revenue', 'customer_credit', 'refunds', 'provider_clearing'].map(balance))).toEqual(before);
    const column = await service.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = 'rm_ledger' AND table_name = 'ledger_invoices' AND column_name = 'cancel_credit'`);
    expect(column.rowCount).toBe(1);
    await expectTrialBalanceZero();
  });

  it('a ledger stored by version 1 (whose CHECK knows no bad_debt) is rebuilt by the current version on its own', async () => {
    const client: pg.PoolClient = await service.pool.connect();
    try {
      await client.query(`UPDATE projection_checkpoints SET version = 1 WHERE name = 'ledger'`);
      // What version 1's table allowed: a posting to bad_debt would now be refused.
      await client.query(`ALTER TABLE rm_ledger.ledger_postings DROP CONSTRAINT ledger_postings_account_known,
                          ADD CONSTRAINT ledger_postings_account_known CHECK (account <> 'bad_debt') NOT VALID`);
    } finally {
      client.release();
    }
    runner = startRunner();
    try {
      await eventually(async () => (await service.store.read(['ledger']))[0]?.version === ledgerProjection.version, 20_000, 'rebuilt as the current version');
    } finally {
      await runner.stop();
    }
    await caughtUp();
    expect(await balance('bad_debt')).toBe(3_000);
    const check = await service.pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'ledger_postings_account_known' AND connamespace = 'rm_ledger'::regnamespace`,
    );
    // The chart's list again (the stand-in above was a single inequality).
    expect(check.rows[0]?.def).toMatch(/provider_clearing.*bad_debt/);
    await expectTrialBalanceZero();
  });
});
