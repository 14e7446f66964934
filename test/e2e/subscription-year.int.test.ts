import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingApi, Loose } from '../http/support/billing-api.js';
import { startBillingApi, subscriptionBody } from '../http/support/billing-api.js';

/*
 * Issue 9's capstone, end to end: a year of monthly renewals on a test clock, with a failed
 * renewal, dunning, recovery, a prorated price change and a cancellation at period end,
 * driven and checked only through the HTTP API of the whole service (projections, billing
 * process runner and billing clock running). The same story in memory is
 * test/application/test-clock-year.unit.test.ts; here the invoices, payments, ledger
 * balances and MRR it produced are read back from the read models.
 *
 * Every expected figure below is derived by hand in the comment beside it. The rules they
 * follow: docs/architecture.md, "Subscriptions" (periods, dunning 1/3/5 days after the first
 * failure, proration), the ledger's posting rules (src/projections/ledger/posting-rules.ts:
 * an invoice defers its charges, revenue is recognised when the subscription leaves the
 * period it paid for), and the MRR rules (active and past_due count, a month is read at its
 * last instant).
 *
 * Two times differ from the in-memory story on purpose: the card is fixed after the first
 * failure (not the second), so the failed renewal is paid on its second attempt; and the
 * price changes at an instant where half-up rounding of a proration line decides the total.
 */

let api: BillingApi;
beforeAll(async () => {
  api = await startBillingApi('e2e_subscription_year');
});
afterAll(async () => {
  await api?.close();
});

const START = '2026-01-15T12:00:00.000Z';
/** Price change instant: see the proration arithmetic where it is used. */
const CHANGE_AT = '2026-07-05T10:37:12.000Z';

/** The last Ledger-Position any answer gave: reads pass it as minPosition to see every earlier write. */
let position = '';
const remember = (headers: Headers): void => {
  const p = headers.get('ledger-position');
  if (p) position = p;
};
const withPosition = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}minPosition=${position}`;

async function send(method: string, path: string, body?: unknown, expected = 200): Promise<Loose> {
  const res = await api.request(method, path, { body });
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(expected);
  remember(res.headers);
  return res.body;
}
async function get(path: string): Promise<Loose> {
  const res = await api.request('GET', withPosition(path));
  expect(res.status, `GET ${path}: ${res.text}`).toBe(200);
  return res.body;
}

const advance = async (clock: string, frozenTime: string): Promise<Loose> => {
  const body = await send('POST', `/v1/test-clocks/${clock}/advance`, { frozenTime });
  // The advance answers when everything due by then has run and been settled.
  expect(body).toMatchObject({ id: clock, status: 'ready', frozenTime: new Date(frozenTime).toISOString(), advancingTo: null });
  return body;
};
/** Oldest first (the list is newest first). */
const invoicesOf = async (subscription: string): Promise<Loose[]> => {
  const page = await get(`/v1/subscriptions/${subscription}/invoices?limit=100`);
  expect(page.nextCursor).toBeNull();
  return [...(page.data as Loose[])].reverse();
};
/** The account's balance on its normal side, in USD (the ledger spans the database; only the year's subscription is in USD). */
const balance = async (account: string): Promise<number> => {
  const body = await get(`/v1/ledger/accounts/${account}/balance?currency=USD`);
  expect(body.data).toHaveLength(1);
  return body.data[0].balance as number;
};
const books = async () => ({
  accounts_receivable: await balance('accounts_receivable'),
  provider_clearing: await balance('provider_clearing'),
  deferred_revenue: await balance('deferred_revenue'),
  revenue: await balance('revenue'),
  customer_credit: await balance('customer_credit'),
});
const mrrAt = async (asOf: string, extra = ''): Promise<Loose[]> => (await get(`/v1/reports/mrr?asOf=${asOf}${extra}`)).data as Loose[];
const usd = (mrr: number, counts: { active?: number; pastDue?: number; churnedThisMonth?: number } = {}) => ({
  currency: 'USD',
  mrr,
  // ARR = 12 × the exact monthly sum; a monthly price is whole minor units, so exactly 12 × mrr.
  arr: 12 * mrr,
  active: counts.active ?? 0,
  trialing: 0,
  pastDue: counts.pastDue ?? 0,
  churnedThisMonth: counts.churnedThisMonth ?? 0,
});

describe('a year of a subscription on a test clock, through the HTTP API', () => {
  it('renews monthly, recovers a failed renewal through dunning, prorates a price change, cancels at period end; invoices, payments, ledger and MRR agree', async () => {
    const clock = String((await send('POST', '/v1/test-clocks', { frozenTime: START, name: 'a year' }, 201)).id);
    const otherClock = String((await send('POST', '/v1/test-clocks', { frozenTime: START, name: 'bystander' }, 201)).id);
    const created = await send('POST', '/v1/subscriptions', subscriptionBody({ customerId: 'cus_year', testClock: clock }), 201);
    const id = String(created.id);
    expect(created).toMatchObject({ status: 'incomplete', createdAt: START, currentPeriodStart: START, currentPeriodEnd: '2026-02-15T12:00:00.000Z', testClock: clock });
    // The bystander bills in EUR, so every USD figure of the ledger and of MRR is the year's subscription alone.
    const bystander = String(
      (await send('POST', '/v1/subscriptions', subscriptionBody({ customerId: 'cus_bystander', testClock: otherClock, price: { amount: 1_000, currency: 'eur', interval: 'month' } }), 201)).id,
    );

    // --- Two renewals, paid: periods Jan 15, Feb 15, Mar 15 (index 2). ---
    await advance(clock, '2026-03-20T00:00:00Z');
    expect(await get(`/v1/subscriptions/${id}`)).toMatchObject({ status: 'active', currentPeriodStart: '2026-03-15T12:00:00.000Z', currentPeriodEnd: '2026-04-15T12:00:00.000Z' });
    expect((await invoicesOf(id)).map((i): unknown[] => [i.billingReason, i.status, i.total])).toEqual([
      ['subscription_create', 'paid', 2_000],
      ['subscription_cycle', 'paid', 2_000],
      ['subscription_cycle', 'paid', 2_000],
    ]);
    // While active at $20.00/month: MRR 2000, one active subscription; the EUR bystander is on another clock.
    expect(await mrrAt('2026-03-20T00:00:00Z', `&testClock=${clock}`)).toEqual([usd(2_000, { active: 1 })]);
    // Without testClock, test-clock subscriptions are left out: no row at all, and a zero row when the currency is asked for.
    expect(await mrrAt('2026-03-20T00:00:00Z')).toEqual([]);
    expect(await mrrAt('2026-03-20T00:00:00Z', '&currency=usd')).toEqual([usd(0)]);

    // --- Advancing the other clock does not touch this subscription. ---
    const before = await api.request('GET', withPosition(`/v1/subscriptions/${id}`));
    await advance(otherClock, '2026-06-01T00:00:00Z');
    const after = await api.request('GET', withPosition(`/v1/subscriptions/${id}`));
    expect(after.text).toBe(before.text);
    expect(await invoicesOf(id)).toHaveLength(3);
    // …while the bystander renewed on its own clock: Jan 15 (create), Feb, Mar, Apr, May 15.
    expect(await invoicesOf(bystander)).toHaveLength(5);

    // --- The card starts declining: the April 15 renewal fails once. ---
    await send('PATCH', `/v1/subscriptions/${id}`, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' });
    await advance(clock, '2026-04-15T13:00:00Z');
    expect(await get(`/v1/subscriptions/${id}`)).toMatchObject({ status: 'past_due', currentPeriodStart: '2026-04-15T12:00:00.000Z' });
    const april = (await invoicesOf(id))[3] as Loose;
    // Dunning retries 1, 3 and 5 days after the first failure: the next attempt is April 16, 12:00.
    expect(april).toMatchObject({ billingReason: 'subscription_cycle', periodStart: '2026-04-15T12:00:00.000Z', status: 'open', total: 2_000, amountPaid: 0, amountDue: 2_000, attemptCount: 1, nextPaymentAttempt: '2026-04-16T12:00:00.000Z' });
    expect(april.attempts[0]).toMatchObject({ attempt: 1, at: '2026-04-15T12:00:00.000Z', outcome: 'failed' });
    // Past due still counts in MRR (as Stripe's), as pastDue rather than active.
    expect(await mrrAt('2026-04-15T13:00:00Z', `&testClock=${clock}`)).toEqual([usd(2_000, { pastDue: 1 })]);
    // Ledger: three paid invoices (6000 captured); Jan and Feb served (4000) plus March, whose
    // period ended when April's started (6000 revenue); April's 2000 is invoiced and deferred,
    // not paid: receivable 2000. Debits 2000 + 6000 = credits 6000 + 2000.
    expect(await books()).toEqual({ accounts_receivable: 2_000, provider_clearing: 6_000, deferred_revenue: 2_000, revenue: 6_000, customer_credit: 0 });

    // --- Fixed before the day-1 retry: it pays, and the subscription is active again. ---
    await send('PATCH', `/v1/subscriptions/${id}`, { paymentMethod: 'pm_card_visa' });
    await advance(clock, '2026-04-19T00:00:00Z');
    expect(await get(`/v1/subscriptions/${id}`)).toMatchObject({ status: 'active', paymentMethod: 'pm_card_visa' });
    const recovered = (await invoicesOf(id))[3] as Loose;
    expect(recovered).toMatchObject({ id: april.id, status: 'paid', amountPaid: 2_000, amountDue: 0, attemptCount: 2, nextPaymentAttempt: null, paidAt: '2026-04-16T12:00:00.000Z' });
    expect((recovered.attempts as Loose[]).map((a): unknown[] => [a.attempt, a.at, a.outcome])).toEqual([
      [1, '2026-04-15T12:00:00.000Z', 'failed'],
      [2, '2026-04-16T12:00:00.000Z', 'succeeded'],
    ]);
    expect(await mrrAt('2026-04-19T00:00:00Z', `&testClock=${clock}`)).toEqual([usd(2_000, { active: 1 })]);
    expect(await books()).toEqual({ accounts_receivable: 0, provider_clearing: 8_000, deferred_revenue: 2_000, revenue: 6_000, customer_credit: 0 });

    // --- A price change to $30.00 in the middle of the June 15 → July 15 period, prorated. ---
    await advance(clock, CHANGE_AT);
    await send('POST', `/v1/subscriptions/${id}/change-price`, { price: { amount: 3_000, currency: 'usd', interval: 'month' } });
    // The proration invoice is the billing process's work after the command; a small advance
    // settles it (an advance first handles everything written before it), and its position covers it.
    await advance(clock, '2026-07-05T12:00:00Z');
    const update = (await invoicesOf(id))[6] as Loose;
    // The period lasts 30 days = 2,592,000 s; from 2026-07-05T10:37:12Z to its end, July 15
    // 12:00, 10 d 1 h 22 min 48 s = 868,968 s are left. Each line is rounded on its own, half up:
    //   credit 2000 × 868968 / 2592000 = 670.5  → 671 (half up; half-even or half-down would say 670)
    //   charge 3000 × 868968 / 2592000 = 1005.75 → 1006
    // total 1006 − 671 = 335.
    expect(update).toMatchObject({ billingReason: 'subscription_update', status: 'paid', total: 335, amountPaid: 335, attemptCount: 1 });
    expect((update.lines as Loose[]).map((l): [string, number] => [String(l.kind), Number(l.amount)]).sort()).toEqual([
      ['proration_charge', 1_006],
      ['proration_credit', -671],
    ]);
    expect(await mrrAt(CHANGE_AT, `&testClock=${clock}`)).toEqual([usd(3_000, { active: 1 })]);
    // Ledger after the change: six $20 invoices and the 335 one paid (12,335 captured). Jan–May
    // are served (10,000 revenue). June's 2000 is still deferred less the 671 credit taken back
    // from it, plus the 1006 charge: 2000 − 671 + 1006 = 2335 deferred. 10,000 + 2,335 = 12,335.
    expect(await books()).toEqual({ accounts_receivable: 0, provider_clearing: 12_335, deferred_revenue: 2_335, revenue: 10_000, customer_credit: 0 });

    // --- Cancel at the end of the October 15 → November 15 period. ---
    await advance(clock, '2026-10-20T00:00:00Z');
    expect(await send('PATCH', `/v1/subscriptions/${id}`, { cancelAtPeriodEnd: true })).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, currentPeriodEnd: '2026-11-15T12:00:00.000Z' });
    // Invoiced so far: 6 × 2000 + 335 + 4 × 3000 (Jul, Aug, Sep, Oct 15) = 24,335, all paid.
    // Only October's 3000 is still deferred: 21,335 revenue.
    expect(await books()).toEqual({ accounts_receivable: 0, provider_clearing: 24_335, deferred_revenue: 3_000, revenue: 21_335, customer_credit: 0 });
    await advance(clock, '2027-01-20T00:00:00Z');

    // --- The end: canceled when its period ended, nothing renewed after. ---
    expect(await get(`/v1/subscriptions/${id}`)).toMatchObject({ status: 'canceled', canceledAt: '2026-11-15T12:00:00.000Z', currentPeriodEnd: '2026-11-15T12:00:00.000Z' });

    // Invoices: creation, the Feb–Jun renewals at 2000, the change, the Jul–Oct renewals at 3000.
    const invoices = await invoicesOf(id);
    expect(invoices.map((i): unknown[] => [i.billingReason, i.periodStart, i.total, i.status])).toEqual([
      ['subscription_create', START, 2_000, 'paid'],
      ['subscription_cycle', '2026-02-15T12:00:00.000Z', 2_000, 'paid'],
      ['subscription_cycle', '2026-03-15T12:00:00.000Z', 2_000, 'paid'],
      ['subscription_cycle', '2026-04-15T12:00:00.000Z', 2_000, 'paid'],
      ['subscription_cycle', '2026-05-15T12:00:00.000Z', 2_000, 'paid'],
      ['subscription_cycle', '2026-06-15T12:00:00.000Z', 2_000, 'paid'],
      ['subscription_update', CHANGE_AT, 335, 'paid'],
      ['subscription_cycle', '2026-07-15T12:00:00.000Z', 3_000, 'paid'],
      ['subscription_cycle', '2026-08-15T12:00:00.000Z', 3_000, 'paid'],
      ['subscription_cycle', '2026-09-15T12:00:00.000Z', 3_000, 'paid'],
      ['subscription_cycle', '2026-10-15T12:00:00.000Z', 3_000, 'paid'],
    ]);
    // One attempt each, two for April's.
    expect(invoices.map((i): unknown => i.attemptCount)).toEqual([1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1]);
    const invoiced = invoices.reduce((sum, i) => sum + (i.total as number), 0);
    expect(invoiced).toBe(24_335);
    expect((await get(`/v1/invoices/${String(april.id)}`)).status).toBe('paid');

    // Payments: one per attempt (12), the April failure the only failed one; the captured sum is what the invoices were paid.
    const payments = (await get('/v1/payments?customerId=cus_year&limit=100')).data as Loose[];
    expect(payments).toHaveLength(12);
    expect(new Set(payments.map((p): unknown => p.id))).toEqual(new Set(invoices.flatMap((i) => i.payments as string[])));
    const failed = payments.filter((p) => p.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ id: recovered.attempts[0].paymentId, amount: 2_000, amountCaptured: 0, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds', failure: { code: 'card_declined', declineCode: 'insufficient_funds' } });
    expect(payments.filter((p) => p.status === 'succeeded')).toHaveLength(11);
    expect(payments.reduce((sum, p) => sum + (p.amountCaptured as number), 0)).toBe(invoiced);

    // Ledger: the period end recognised October's 3000, so nothing is deferred and revenue is
    // every paid invoice; nothing is owed either way.
    const end = await books();
    expect(end).toEqual({ accounts_receivable: 0, provider_clearing: 24_335, deferred_revenue: 0, revenue: 24_335, customer_credit: 0 });
    expect(end.revenue + end.deferred_revenue + end.customer_credit).toBe(invoiced);
    const trial = await get('/v1/ledger/trial-balance');
    expect((trial.data as Loose[]).map((r) => String(r.currency)).sort()).toEqual(['EUR', 'USD']);
    for (const row of trial.data as Loose[]) expect(row.debits, String(row.currency)).toBe(row.credits);

    // MRR month by month, each month read at its last instant: $20 Jan–Jun (April recovered by
    // the 30th), $30 from July, 0 from November with the churn counted in November only.
    const history = await get(`/v1/reports/mrr/history?from=2026-01&to=2026-12&asOf=2027-01-20T00:00:00Z&currency=usd&testClock=${clock}`);
    const month = (m: number) => `2026-${String(m).padStart(2, '0')}`;
    expect((history.data as Loose[]).map((r): unknown[] => [r.month, r.mrr, r.active, r.pastDue, r.churnedThisMonth])).toEqual([
      ...[1, 2, 3, 4, 5, 6].map((m) => [month(m), 2_000, 1, 0, 0]),
      ...[7, 8, 9, 10].map((m) => [month(m), 3_000, 1, 0, 0]),
      [month(11), 0, 0, 0, 1],
      [month(12), 0, 0, 0, 0],
    ]);
    expect(await mrrAt('2026-11-20T00:00:00Z', `&testClock=${clock}&currency=usd`)).toEqual([usd(0, { churnedThisMonth: 1 })]);
    // Without testClock the year's subscription is in no month.
    const real = await get('/v1/reports/mrr/history?from=2026-01&to=2026-12&asOf=2027-01-20T00:00:00Z');
    expect(real.data).toEqual([]);

    // The bystander's clock stayed where it was while this one ran to 2027.
    expect(await get(`/v1/subscriptions/${bystander}`)).toMatchObject({ status: 'active', currentPeriodStart: '2026-05-15T12:00:00.000Z' });
    expect(await invoicesOf(bystander)).toHaveLength(5);
  }, 120_000);
});
