import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

/*
 * Issue 9's "two schedulers" case, at the PostgreSQL level: two service instances on one
 * database, each with its own billing process runner, clock and settler, run the same due
 * work at the same time, on a test clock and on the real clock. Every period must be
 * invoiced once and every attempt charged once.
 */

let db: TestDatabase;
let a: RunningService;
let b: RunningService;

beforeAll(async () => {
  db = await createTestDatabase('billing_two');
  a = await startTestService(db.url, { BILLING_TICK_MS: '3600000' });
  b = await startTestService(db.url, { BILLING_TICK_MS: '3600000' });
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

const ctx = (name: string): CommandContext => ({ correlationId: name, actor: 'test', customerScope: null });
const price = { amount: 1_500, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

async function createSubscriptions(service: RunningService, testClock: string | null, cards: readonly string[]): Promise<string[]> {
  const subscriptions = service.container.get(TOKENS.SubscriptionCommands);
  const ids: string[] = [];
  for (const [i, paymentMethod] of cards.entries()) {
    const created = await subscriptions.create({ customerId: `cus_${i}`, price, paymentMethod, trialDays: null, metadata: {}, testClock }, ctx(`create-${i}`));
    if (!created.ok) throw new Error(created.error.code);
    ids.push(created.value.state.subscriptionId);
  }
  return ids;
}

/** Per subscription: how many invoices each period got, and how many charges each attempt. */
async function billingCounts(subscriptionIds: readonly string[]) {
  const invoices = await db.pool.query<{ subscription: string; period_start: string; n: string }>(
    `SELECT data->>'subscriptionId' AS subscription, data->>'periodStart' AS period_start, count(*)::text AS n
       FROM events WHERE event_type = 'InvoiceIssued' AND data->>'subscriptionId' = ANY($1) GROUP BY 1, 2`,
    [[...subscriptionIds]],
  );
  const charges = await db.pool.query<{ invoice: string; attempt: string; n: string }>(
    `SELECT data->'metadata'->>'invoiceId' AS invoice, data->'metadata'->>'attempt' AS attempt, count(*)::text AS n
       FROM events WHERE event_type IN ('PaymentAuthorized', 'PaymentFailed') AND data->'metadata'->>'subscriptionId' = ANY($1) GROUP BY 1, 2`,
    [[...subscriptionIds]],
  );
  const attempts = await db.pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM events WHERE event_type = 'InvoicePaymentAttempted' AND data->>'subscriptionId' = ANY($1)`,
    [[...subscriptionIds]],
  );
  return { invoices: invoices.rows, charges: charges.rows, attempts: Number(attempts.rows[0]?.n) };
}

describe('two billing schedulers on one database', () => {
  it('advance one test clock at the same time from both instances: each period invoiced once, each attempt charged once', async () => {
    const clocks = a.container.get(TOKENS.TestClocks);
    const created = await clocks.create(new Date('2026-01-10T08:00:00Z'), 'two', ctx('clock'));
    if (!created.ok) throw new Error(created.error.code);
    const clockId = created.value.testClockId;
    const ids = await createSubscriptions(a, clockId, ['pm_card_visa', 'pm_card_visa', 'pm_card_chargeDeclinedInsufficientFunds']);
    const to = new Date('2026-04-20T00:00:00Z');
    // Instance a advances the clock while b's billing clock runs the same clock's due work.
    const [advanced, ranOnB] = await Promise.all([
      a.container.get(TOKENS.TestClocks).advance(clockId, to, ctx('advance-a')),
      b.container.get(TOKENS.BillingClock).runDue(clockId, to, 'advance-b'),
    ]);
    if (!advanced.ok) throw new Error(advanced.error.code);
    expect(advanced.value).toMatchObject({ status: 'ready', frozenTime: to.toISOString() });
    expect(ranOnB.more).toBe(false);
    const counts = await billingCounts(ids);
    // Two paying subscriptions: the first invoice and three renewals each; the declined one only its first.
    expect(counts.invoices).toHaveLength(2 * 4 + 1);
    expect(counts.invoices.every((r) => r.n === '1')).toBe(true);
    expect(counts.charges.every((r) => r.n === '1')).toBe(true);
    // One charge per recorded attempt, and every attempt charged.
    expect(counts.charges).toHaveLength(counts.attempts);
    // The advance answered after the read model had it all.
    const states = await Promise.all(ids.map((id) => a.container.get(TOKENS.BillingQueries).subscription(id)));
    expect(states.map((s) => s?.state.status)).toEqual(['active', 'active', 'incomplete_expired']);
    expect(states.map((s) => s?.state.currentPeriod.start)).toEqual(['2026-04-10T08:00:00.000Z', '2026-04-10T08:00:00.000Z', '2026-01-10T08:00:00.000Z']);
  }, 120_000);

  it('run the real clock on both instances at once: each renewal invoiced and charged once', async () => {
    const ids = await createSubscriptions(b, null, ['pm_card_visa', 'pm_card_visa']);
    // Let the first invoices be paid (the process runner does it in the background).
    const subscriptions = a.container.get(TOKENS.SubscriptionCommands);
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(ids.map((id) => subscriptions.update(id, {}, ctx('poll'))));
      if (states.every((s) => s.ok && s.value.state.status === 'active')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Both instances' clocks run everything due in the next two months as if that time had passed.
    const until = new Date(Date.now() + 62 * 86_400_000);
    await Promise.all([
      a.container.get(TOKENS.BillingClock).runDue(null, until, 'tick-a'),
      b.container.get(TOKENS.BillingClock).runDue(null, until, 'tick-b'),
    ]);
    const counts = await billingCounts(ids);
    expect(counts.invoices.length).toBeGreaterThanOrEqual(2 * 3);
    expect(counts.invoices.every((r) => r.n === '1')).toBe(true);
    expect(counts.charges).toHaveLength(counts.attempts);
    expect(counts.charges.every((r) => r.n === '1')).toBe(true);
  }, 120_000);
});
