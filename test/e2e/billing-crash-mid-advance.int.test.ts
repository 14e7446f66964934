import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';
import type { ChildService } from './support/child-service.js';
import { startChildService } from './support/child-service.js';

/*
 * Issue 9's "the process dies mid-advance" case: a service instance advancing a test clock
 * by months is killed (SIGKILL) half-way, while charging; the clock is left `advancing`.
 * Asking another instance for the same advance finishes it: every period invoiced once,
 * every attempt charged once, nothing left locked.
 */

let db: TestDatabase;
let survivor: RunningService;
let doomed: ChildService | undefined;

beforeAll(async () => {
  db = await createTestDatabase('billing_crash');
  survivor = await startTestService(db.url, { BILLING_TICK_MS: '3600000' });
}, 60_000);

afterAll(async () => {
  await doomed?.kill('SIGKILL');
  await survivor?.stop();
  await db?.drop();
});

const ctx: CommandContext = { correlationId: 'crash', actor: 'test', customerScope: null };

describe('a test clock advance whose process is killed half-way', () => {
  it('is finished by the next advance on another instance, with no double invoice or charge', async () => {
    const clocks = survivor.container.get(TOKENS.TestClocks);
    const created = await clocks.create(new Date('2026-01-31T10:00:00Z'), 'crash', ctx);
    if (!created.ok) throw new Error(created.error.code);
    const clockId = created.value.testClockId;
    const subscriptions = survivor.container.get(TOKENS.SubscriptionCommands);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sub = await subscriptions.create(
        { customerId: `cus_${i}`, price: { amount: 990 + i, currency: toCurrencyCode('EUR'), interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId },
        ctx,
      );
      if (!sub.ok) throw new Error(sub.error.code);
      ids.push(sub.value.state.subscriptionId);
    }
    const to = '2026-07-01T00:00:00.000Z';
    // Only the doomed instance works on billing until it dies (the survivor keeps its projections).
    await survivor.container.get(TOKENS.BillingProcessRunner).stop();
    // The doomed instance runs no background work of its own: only its advance, slowed at every charge.
    doomed = await startChildService(db.url, { TEST_AUTHORIZE_DELAY_MS: '150', PROJECTIONS_ENABLED: 'false', TEST_ADVANCE_CLOCK: `${clockId}@${to}` });
    // Killed in its fourth charge: some renewals done, the rest not.
    const charges = (): number => doomed?.lines.filter((l) => l.marker === 'authorize').length ?? 0;
    for (let waitedMs = 0; charges() < 4; waitedMs += 20) {
      if (waitedMs > 60_000) throw new Error(`the doomed advance charged ${charges()} times in a minute`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await doomed.kill('SIGKILL');
    expect(doomed.lines.some((l) => l.marker === 'advanced')).toBe(false);
    const stuck = await survivor.container.get(TOKENS.EventStore).readStream(`testclock-${clockId}`);
    expect(stuck.events.at(-1)?.type).toBe('TestClockAdvanceStarted');

    const finished = await clocks.advance(clockId, new Date(to), ctx);
    if (!finished.ok) throw new Error(finished.error.code);
    expect(finished.value).toMatchObject({ status: 'ready', frozenTime: to });

    const invoices = await db.pool.query<{ n: string; periods: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT (data->>'subscriptionId', data->>'periodStart'))::text AS periods FROM events WHERE event_type = 'InvoiceIssued'`,
    );
    // Jan 31 (created), Feb 28, Mar 31, Apr 30, May 31, Jun 30: six periods each, one invoice each.
    expect(invoices.rows[0]).toEqual({ n: String(3 * 6), periods: String(3 * 6) });
    const charged = await db.pool.query<{ n: string; attempts: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT (data->'metadata'->>'invoiceId', data->'metadata'->>'attempt'))::text AS attempts FROM events WHERE event_type IN ('PaymentAuthorized', 'PaymentFailed')`,
    );
    expect(charged.rows[0]).toEqual({ n: String(3 * 6), attempts: String(3 * 6) });
    const paid = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE event_type = 'InvoicePaid'`);
    expect(paid.rows[0]?.n).toBe(String(3 * 6));
    const states = await Promise.all(ids.map((id) => survivor.container.get(TOKENS.BillingQueries).subscription(id)));
    expect(states.map((s) => [s?.state.status, s?.state.currentPeriod.start])).toEqual(ids.map(() => ['active', '2026-06-30T10:00:00.000Z']));
  }, 180_000);
});
