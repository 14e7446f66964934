import type { CommandContext } from '../../../src/application/command-context.js';
import type { EventStore, RecordedEvent } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';
import { comparePositions } from '../../../src/application/ports/position.js';
import type { BillingTime } from '../../../src/application/subscriptions/billing-time.js';
import type { SubscriptionCommandResult, SystemCause } from '../../../src/application/subscriptions/subscription-command-handlers.js';
import { SubscriptionCommandHandlers } from '../../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../../src/domain/currency.js';
import type { InvoiceId, SubscriptionId } from '../../../src/domain/ids.js';
import type { SubscriptionPrice } from '../../../src/domain/subscription/index.js';
import { SystemIdGenerator } from '../../../src/infrastructure/system/id-generator.js';
import { idBody } from './revenue-events.js';

/*
 * Subscriptions for the MRR suites, written through the real SubscriptionCommandHandlers on
 * whatever store the suite gives (PostgreSQL in the int suites). Time is a settable clock
 * behind the BillingTime port: the real clock's `now`, and one test clock's frozen time.
 * Invoice outcomes are reported as the billing process reports them (recordInvoicePaid …);
 * the invoices themselves are not needed by MRR.
 *
 * The expected figures (MRR_EXPECTED) are worked by hand in the comments below.
 */

export const TEST_CLOCK_ID = `clock_${idBody(7)}`;
const ctx: CommandContext = { correlationId: 'mrr', actor: 'key:ak_1', customerScope: null };
const USD = toCurrencyCode('USD');
const EUR = toCurrencyCode('EUR');

class SettableTime implements BillingTime {
  real = new Date(0);
  test = new Date(0);
  now(testClock: string | null): Promise<Date | undefined> {
    if (testClock === null) return Promise.resolve(this.real);
    return Promise.resolve(testClock === TEST_CLOCK_ID ? this.test : undefined);
  }
}

/**
 * The whole log up to `last`. PostgreSQL's store reads only below the oldest transaction
 * still open anywhere on the server (docs/architecture.md, "Event store"), and other suites
 * share the server: a write can be committed and not yet readable for a moment.
 */
async function readUpTo(store: EventStore, last: Position): Promise<readonly RecordedEvent[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const events = await store.readAll({ maxCount: 10_000 });
    const tail = events[events.length - 1];
    if (tail && comparePositions(tail.position, last) >= 0) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the scenario\'s last event never became readable');
}

/** Writes the scenario; returns the events it appended, in log order. */
export async function writeMrrScenario(store: EventStore): Promise<readonly RecordedEvent[]> {
  const time = new SettableTime();
  const subs = new SubscriptionCommandHandlers(store, time, new SystemIdGenerator());
  let n = 0;
  let last: Position | undefined;
  const must = (r: SubscriptionCommandResult): SubscriptionId => {
    if (!r.ok) throw new Error(`scenario step refused: ${JSON.stringify(r.error)}`);
    if (!last || comparePositions(r.value.position, last) > 0) last = r.value.position;
    return r.value.state.subscriptionId;
  };
  const cause = (at: string): SystemCause => ({ actor: 'billing', correlationId: 'mrr', causationId: `c${++n}`, seed: `seed-${n}`, at: new Date(at) });
  const invoice = (): InvoiceId => `in_${idBody(1_000 + ++n)}` as InvoiceId;
  const at = (iso: string): void => void (time.real = new Date(iso));
  const create = async (price: SubscriptionPrice, trialDays: number | null, testClock: string | null = null): Promise<SubscriptionId> =>
    must(await subs.create({ customerId: `cus_${++n}`, testClock, price, paymentMethod: 'pm_card_visa', trialDays, metadata: {} }, ctx));
  const paid = async (id: SubscriptionId, when: string) => must(await subs.recordInvoicePaid(id, invoice(), cause(when)));

  // A: USD 1,000 a month from Jan 5.
  at('2026-01-05T00:00:00Z');
  const a = await create({ amount: 1_000, currency: USD, interval: 'month', intervalCount: 1 }, null);
  await paid(a, '2026-01-05T00:01:00Z');
  // B: USD 12,000 a year (1,000 a month), 14-day trial from Jan 10: nothing until its first paid invoice on Jan 24.
  at('2026-01-10T00:00:00Z');
  const b = await create({ amount: 12_000, currency: USD, interval: 'year', intervalCount: 1 }, 14);
  // C: USD 100 a week (433.33… a month) from Jan 12; a renewal fails Feb 2 (past_due, still counted); canceled Feb 10 (churn).
  at('2026-01-12T00:00:00Z');
  const c = await create({ amount: 100, currency: USD, interval: 'week', intervalCount: 1 }, null);
  await paid(c, '2026-01-12T00:00:30Z');
  // D: EUR 2,500 a month from Jan 15; 3,000 from Mar 1.
  at('2026-01-15T00:00:00Z');
  const d = await create({ amount: 2_500, currency: EUR, interval: 'month', intervalCount: 1 }, null);
  await paid(d, '2026-01-15T00:00:10Z');
  // F: USD 700 a month from Jan 20; paused Feb 15 (leaves MRR, not churn).
  at('2026-01-20T00:00:00Z');
  const f = await create({ amount: 700, currency: USD, interval: 'month', intervalCount: 1 }, null);
  await paid(f, '2026-01-20T00:00:00Z');
  // T: on the test clock, USD 9,999 a month from Jan 3 (its own time): left out unless asked for.
  time.test = new Date('2026-01-03T00:00:00Z');
  const t = await create({ amount: 9_999, currency: USD, interval: 'month', intervalCount: 1 }, null, TEST_CLOCK_ID);
  await paid(t, '2026-01-03T00:00:05Z');
  await paid(b, '2026-01-24T00:00:00Z');
  // E: USD 500 a month from Feb 1, never paid: incomplete, then expired (never counted, so no churn).
  at('2026-02-01T00:00:00Z');
  const e = await create({ amount: 500, currency: USD, interval: 'month', intervalCount: 1 }, null);
  // G: USD 300 a month, 30-day trial from Feb 3, canceled in its trial Feb 12: never counted, so no churn.
  at('2026-02-03T00:00:00Z');
  const g = await create({ amount: 300, currency: USD, interval: 'month', intervalCount: 1 }, 30);
  must(await subs.recordInvoicePaymentFailed(c, invoice(), cause('2026-02-02T00:00:00Z')));
  must(await subs.expireIncomplete(e, new Date('2026-02-02T00:00:00Z'), cause('2026-02-02T00:00:00Z')));
  at('2026-02-10T00:00:00Z');
  must(await subs.cancel(c, false, ctx));
  at('2026-02-12T00:00:00Z');
  must(await subs.cancel(g, false, ctx));
  at('2026-02-15T00:00:00Z');
  must(await subs.pause(f, ctx));
  at('2026-03-01T00:00:00Z');
  must(await subs.changePrice(d, { amount: 3_000, currency: EUR, interval: 'month', intervalCount: 1 }, false, ctx));
  // The test clock's subscription is canceled on its own clock in January: churn on that clock only.
  time.test = new Date('2026-01-25T00:00:00Z');
  must(await subs.cancel(t, false, ctx));

  return readUpTo(store, last as Position);
}

const row = (currency: string, mrr: number, arr: number, active: number, trialing: number, pastDue: number, churnedThisMonth: number) => ({
  currency,
  mrr,
  arr,
  active,
  trialing,
  pastDue,
  churnedThisMonth,
});

/** What the scenario's reports say, worked by hand. */
export const MRR_EXPECTED = {
  // A 1,000 + C 433.33… + F 700 = 2,133.33… → 2,133; ARR 12 × 2,133.33… = 25,600. B trialing.
  jan20: { asOf: '2026-01-20T12:00:00Z', data: [row('EUR', 2_500, 30_000, 1, 0, 0, 0), row('USD', 2_133, 25_600, 3, 1, 0, 0)] },
  // A + B 1,000 + C + F = 3,133.33… → 3,133; ARR 37,600.
  jan31: { asOf: '2026-01-31T23:59:59.999Z', data: [row('EUR', 2_500, 30_000, 1, 0, 0, 0), row('USD', 3_133, 37_600, 4, 0, 0, 0)] },
  // C past_due still counts; E incomplete and G trialing add nothing.
  feb05: { asOf: '2026-02-05T00:00:00Z', data: [row('EUR', 2_500, 30_000, 1, 0, 0, 0), row('USD', 3_133, 37_600, 3, 1, 1, 0)] },
  // C canceled (churned in Feb), F paused, E expired, G canceled in its trial (not churn): A + B.
  feb20: { asOf: '2026-02-20T00:00:00Z', data: [row('EUR', 2_500, 30_000, 1, 0, 0, 0), row('USD', 2_000, 24_000, 2, 0, 0, 1)] },
  // The test clock on Jan 10: T alone; on Jan 31, canceled (churned) on its clock.
  clockJan10: { asOf: '2026-01-10T00:00:00Z', data: [row('USD', 9_999, 119_988, 1, 0, 0, 0)] },
  clockJan31: { asOf: '2026-01-31T00:00:00Z', data: [row('USD', 0, 0, 0, 0, 0, 1)] },
  // History Jan–Mar as of Mar 15: each month at its end; D's price change shows in March.
  history: [
    { month: '2026-01', at: '2026-01-31T23:59:59.999Z', ...row('EUR', 2_500, 30_000, 1, 0, 0, 0) },
    { month: '2026-01', at: '2026-01-31T23:59:59.999Z', ...row('USD', 3_133, 37_600, 4, 0, 0, 0) },
    { month: '2026-02', at: '2026-02-28T23:59:59.999Z', ...row('EUR', 2_500, 30_000, 1, 0, 0, 0) },
    { month: '2026-02', at: '2026-02-28T23:59:59.999Z', ...row('USD', 2_000, 24_000, 2, 0, 0, 1) },
    { month: '2026-03', at: '2026-03-15T00:00:00.000Z', ...row('EUR', 3_000, 36_000, 1, 0, 0, 0) },
    { month: '2026-03', at: '2026-03-15T00:00:00.000Z', ...row('USD', 2_000, 24_000, 2, 0, 0, 0) },
  ],
} as const;
