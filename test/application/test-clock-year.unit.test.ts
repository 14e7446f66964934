import { describe, expect, it } from 'vitest';
import { inMemoryBilling } from '../support/in-memory-billing.js';
import type { CommandContext } from '../../src/application/command-context.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { toCurrencyCode } from '../../src/domain/currency.js';

/*
 * Issue 9's scenario over the in-memory store: a year of monthly renewals on a test clock,
 * with a failed renewal, dunning, recovery, a prorated price change and a cancellation at
 * period end; then the invoices, payments and statuses it produced.
 */

const ctx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };

const setup = () => inMemoryBilling();

const of = (events: readonly RecordedEvent[], type: string): RecordedEvent[] => events.filter((e) => e.type === type);

describe('a year on a test clock', () => {
  it('renews monthly, recovers from a failed renewal through dunning, prorates a price change, cancels at period end', async () => {
    const { store, subscriptions, clocks, settle } = setup();
    const created = await clocks.create(new Date('2026-01-15T12:00:00Z'), 'year', ctx);
    if (!created.ok) throw new Error(created.error.code);
    const clockId = created.value.testClockId;
    const sub = await subscriptions.create(
      { customerId: 'cus_1', price: { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId },
      ctx,
    );
    if (!sub.ok) throw new Error(sub.error.code);
    const id = sub.value.state.subscriptionId;
    await settle();
    expect(sub.value.state.createdAt).toBe('2026-01-15T12:00:00.000Z');

    const advance = async (to: string) => {
      const r = await clocks.advance(clockId, new Date(to), ctx);
      if (!r.ok) throw new Error(r.error.code);
      return r.value;
    };
    const status = async () => {
      const s = await subscriptions.update(id, {}, ctx);
      if (!s.ok) throw new Error(s.error.code);
      return s.value.state;
    };

    // Two renewals paid.
    await advance('2026-03-20T00:00:00Z');
    expect(await status()).toMatchObject({ status: 'active', currentPeriod: { index: 2, start: '2026-03-15T12:00:00.000Z' } });
    // The card starts declining: the April renewal fails, and so does the retry a day later.
    await subscriptions.update(id, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }, ctx);
    await advance('2026-04-16T13:00:00Z');
    expect((await status()).status).toBe('past_due');
    // Fixed before the day-3 retry: it pays, and the subscription is active again.
    await subscriptions.update(id, { paymentMethod: 'pm_card_visa' }, ctx);
    await advance('2026-04-19T00:00:00Z');
    expect((await status()).status).toBe('active');
    // Price change in the middle of June's period, prorated.
    await advance('2026-06-30T12:00:00Z');
    const changed = await subscriptions.changePrice(id, { amount: 3_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 }, true, ctx);
    expect(changed.ok).toBe(true);
    await settle();
    // Cancel at the end of October's period.
    await advance('2026-10-20T00:00:00Z');
    await subscriptions.update(id, { cancelAtPeriodEnd: true }, ctx);
    const last = await advance('2027-01-20T00:00:00Z');
    expect(last).toMatchObject({ status: 'ready', frozenTime: '2027-01-20T00:00:00.000Z' });

    const final = await subscriptions.update(id, {}, ctx);
    expect(final).toMatchObject({ ok: false, error: { code: 'subscription_ended', status: 'canceled' } });
    const events = store.events;
    // Jan, Feb, Mar, Apr, May, Jun, Jul, Aug, Sep, Oct periods + the June change: 11 invoices.
    const issued = of(events, 'InvoiceIssued').map((e) => e.data as { billingReason: string; total: number; periodStart: string });
    expect(issued.map((i) => i.billingReason)).toEqual([
      'subscription_create',
      ...Array<string>(5).fill('subscription_cycle'),
      'subscription_update',
      ...Array<string>(4).fill('subscription_cycle'),
    ]);
    expect(issued.map((i) => i.periodStart)).toContain('2026-04-15T12:00:00.000Z');
    expect(new Set(issued.map((i) => i.periodStart)).size).toBe(issued.length);
    // The June 30 change: 15 of June 15→July 15 (30 days) left: credit 1000, charge 1500.
    const change = issued[6] as { total: number };
    expect(change.total).toBe(500);
    expect(issued.slice(7).every((i) => i.total === 3_000)).toBe(true);
    // Every invoice paid exactly once; the April one after two failures.
    expect(of(events, 'InvoicePaid')).toHaveLength(11);
    expect(of(events, 'PaymentFailed')).toHaveLength(2);
    expect(of(events, 'PaymentCaptured')).toHaveLength(11);
    const captured = of(events, 'PaymentCaptured').reduce((sum, e) => sum + (e.data as { amount: number }).amount, 0);
    expect(captured).toBe(2_000 * 6 + 500 + 3_000 * 4);
    expect(of(events, 'SubscriptionCanceled')[0]?.data).toMatchObject({ cause: 'cancel_at_period_end', at: '2026-11-15T12:00:00.000Z' });
    // Events on the test clock carry its time, not the machine's.
    expect(of(events, 'SubscriptionCanceled')[0]?.metadata.occurredAt).toBe('2026-11-15T12:00:00.000Z');
    // Advances are audited: who, from, to.
    expect(of(events, 'TestClockAdvanceStarted').map((e) => e.metadata.actor)).toEqual(Array<string>(6).fill('key:ak_1'));
  });
});

describe('exactly once on a test clock', () => {
  async function subscribed(h: ReturnType<typeof setup>) {
    const created = await h.clocks.create(new Date('2026-01-15T12:00:00Z'), null, ctx);
    if (!created.ok) throw new Error(created.error.code);
    const clockId = created.value.testClockId;
    for (const customerId of ['cus_1', 'cus_2', 'cus_3']) {
      const sub = await h.subscriptions.create(
        { customerId, price: { amount: 1_000, currency: toCurrencyCode('JPY'), interval: 'month', intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: clockId },
        ctx,
      );
      if (!sub.ok) throw new Error(sub.error.code);
    }
    await h.settle();
    return clockId;
  }
  const counts = (events: readonly RecordedEvent[]) => ({
    invoices: of(events, 'InvoiceIssued').length,
    charges: of(events, 'PaymentCaptured').length,
    periods: of(events, 'SubscriptionPeriodStarted').length,
  });

  it('two advances of the same clock at once run each renewal once: no double invoice, no double charge', async () => {
    const h = setup();
    const clockId = await subscribed(h);
    const to = new Date('2026-04-20T00:00:00Z');
    const [a, b] = await Promise.all([h.clocks.advance(clockId, to, ctx), h.clocks.advance(clockId, to, ctx)]);
    expect(a.ok && b.ok).toBe(true);
    // 3 subscriptions × (creation + 3 renewals).
    expect(counts(h.store.events)).toEqual({ invoices: 12, charges: 12, periods: 9 });
  });

  it('an advance that dies half-way is finished by the next call for the same target, without repeating anything', async () => {
    const h = setup();
    const clockId = await subscribed(h);
    const to = new Date('2026-04-20T00:00:00Z');
    // The process dies after the fifth period has started, before its invoice was settled.
    let periods = 0;
    const original = h.store.append.bind(h.store);
    h.store.append = async (...args: Parameters<typeof h.store.append>) => {
      const result = await original(...args);
      if (args[1].some((e) => e.type === 'SubscriptionPeriodStarted') && ++periods === 5) throw new Error('kill -9');
      return result;
    };
    await expect(h.clocks.advance(clockId, to, ctx)).rejects.toThrow('kill -9');
    h.store.append = original;
    const resumed = await h.clocks.advance(clockId, to, ctx);
    expect(resumed).toMatchObject({ ok: true, value: { status: 'ready', frozenTime: to.toISOString() } });
    expect(counts(h.store.events)).toEqual({ invoices: 12, charges: 12, periods: 9 });
  });
});
