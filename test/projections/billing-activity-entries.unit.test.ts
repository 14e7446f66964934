import { describe, expect, it } from 'vitest';
import { inMemoryBilling } from '../support/in-memory-billing.js';
import type { CommandContext } from '../../src/application/command-context.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { ActivityEntrySchema } from '../../src/infrastructure/http/schemas.js';
import { activityWireForm } from '../../src/infrastructure/http/wire-form.js';
import { ACTIVITY_EVENT_TYPES, activityRecordOf } from '../../src/projections/activity/activity-entries.js';
import { formatPrice } from '../../src/projections/activity/money-text.js';

/*
 * Subscription and invoice facts on the customer's timeline (issue 9): one entry per fact,
 * with its amount in minor units and currency when the fact names one, the status it leaves,
 * the billing reason and period; then the log of a real billing scenario, every entry of
 * which the API's schema accepts.
 */

const SUB = 'sub_01JD0000000000000000000001';
const INV = 'in_01JD0000000000000000000001';
const PAY = 'pay_01JD0000000000000000000001';
const meta = { correlationId: 'c', causationId: null, actor: 'billing', occurredAt: '2026-03-15T12:00:00.000Z', schemaVersion: 1 };
let n = 0;
const recorded = (type: string, data: Record<string, unknown>): RecordedEvent => {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    streamId: type.startsWith('Invoice') ? `invoice-${INV}` : `subscription-${SUB}`,
    revision: streamRevision(0),
    position: position(BigInt(n), 3n),
    data,
    metadata: meta,
    recordedAt: new Date(),
  };
};
const sub = (type: string, data: Record<string, unknown> = {}) => recorded(type, { subscriptionId: SUB, customerId: 'cus_1', ...data });
const inv = (type: string, data: Record<string, unknown> = {}) => recorded(type, { invoiceId: INV, subscriptionId: SUB, customerId: 'cus_1', currency: 'USD', ...data });
const entryOf = (event: RecordedEvent) => activityRecordOf(event)?.entry;

const monthly = { amount: 2_000, currency: 'USD', interval: 'month', intervalCount: 1 };
const period = (index: number, start: string, end: string) => ({ kind: 'billing', index, start, end });
const created = (over: Record<string, unknown> = {}) => ({
  price: monthly, paymentMethod: 'pm_card_visa', metadata: {}, testClock: null, createdAt: '2026-01-15T12:00:00.000Z',
  status: 'incomplete', trialEnd: null, billingCycleAnchor: '2026-01-15T12:00:00.000Z',
  currentPeriod: period(0, '2026-01-15T12:00:00.000Z', '2026-02-15T12:00:00.000Z'), ...over,
});

describe('subscription entries', () => {
  it('a creation shows the price, the status and the first period, keyed by the event on the customer\'s timeline', () => {
    const event = sub('SubscriptionCreated', created());
    expect(activityRecordOf(event)).toEqual({
      customerId: 'cus_1',
      entry: {
        id: event.id, type: 'subscription.created', occurredAt: meta.occurredAt, position: `${n}.3`,
        subscriptionId: SUB, amount: 2_000, currency: 'USD', status: 'incomplete',
        periodStart: '2026-01-15T12:00:00.000Z', periodEnd: '2026-02-15T12:00:00.000Z',
        summary: 'Subscription of 20.00 USD every month created, first invoice due now',
      },
    });
    const trial = entryOf(sub('SubscriptionCreated', created({
      status: 'trialing', trialEnd: '2026-01-25T12:00:00.000Z', price: { amount: 30_000, currency: 'JPY', interval: 'year', intervalCount: 1 },
      currentPeriod: { kind: 'trial', start: '2026-01-15T12:00:00.000Z', end: '2026-01-25T12:00:00.000Z' },
    })));
    expect(trial).toMatchObject({ status: 'trialing', amount: 30_000, currency: 'JPY', periodEnd: '2026-01-25T12:00:00.000Z', summary: 'Subscription of 30000 JPY every year started, trial until 2026-01-25T12:00:00.000Z' });
  });

  it('a period start is a renewal, or the end of the trial for the first billing period; it names no status nor amount (the event decides neither)', () => {
    const renewed = entryOf(sub('SubscriptionPeriodStarted', { currentPeriod: period(2, '2026-03-15T12:00:00.000Z', '2026-04-15T12:00:00.000Z') }));
    expect(renewed).toMatchObject({
      type: 'subscription.renewed', periodStart: '2026-03-15T12:00:00.000Z', periodEnd: '2026-04-15T12:00:00.000Z',
      summary: 'Subscription renewed: 2026-03-15T12:00:00.000Z to 2026-04-15T12:00:00.000Z',
    });
    expect(renewed).not.toHaveProperty('status');
    expect(renewed).not.toHaveProperty('amount');
    expect(renewed).not.toHaveProperty('currency');
    expect(entryOf(sub('SubscriptionPeriodStarted', { currentPeriod: period(0, '2026-01-25T12:00:00.000Z', '2026-02-25T12:00:00.000Z') }))?.summary)
      .toBe('Trial ended, first billing period started: 2026-01-25T12:00:00.000Z to 2026-02-25T12:00:00.000Z');
  });

  it('invoice outcomes on the subscription name the invoice and the status they leave', () => {
    expect(entryOf(sub('SubscriptionActivated', { invoiceId: INV }))).toMatchObject({ type: 'subscription.activated', invoiceId: INV, status: 'active', summary: `Subscription active: invoice ${INV} paid` });
    expect(entryOf(sub('SubscriptionPastDue', { invoiceId: INV }))).toMatchObject({ type: 'subscription.past_due', status: 'past_due', summary: `Subscription past due: invoice ${INV} could not be charged` });
    expect(entryOf(sub('SubscriptionMarkedUnpaid', { invoiceId: INV }))).toMatchObject({ type: 'subscription.unpaid', status: 'unpaid', summary: `Subscription unpaid: retries of invoice ${INV} exhausted` });
    expect(entryOf(sub('SubscriptionIncompleteExpired', { at: '2026-01-16T11:00:00.000Z' }))).toMatchObject({ type: 'subscription.expired', status: 'incomplete_expired' });
  });

  it('cancellations say why, and a prorated one shows the credit', () => {
    const at = '2026-03-20T00:00:00.000Z';
    expect(entryOf(sub('SubscriptionCanceled', { at, cause: 'requested', proration: null }))).toMatchObject({ type: 'subscription.canceled', status: 'canceled', summary: 'Subscription canceled' });
    expect(entryOf(sub('SubscriptionCanceled', { at, cause: 'requested', proration: null }))).not.toHaveProperty('amount');
    expect(entryOf(sub('SubscriptionCanceled', { at, cause: 'cancel_at_period_end', proration: null }))?.summary).toBe('Subscription canceled at the end of its period');
    expect(entryOf(sub('SubscriptionCanceled', { at, cause: 'dunning_exhausted', proration: null }))?.summary).toBe('Subscription canceled: payment retries exhausted');
    expect(entryOf(sub('SubscriptionCanceled', { at, cause: 'requested', proration: { credit: 1_250, currency: 'BHD', remainingSeconds: 10, periodSeconds: 20 } }))).toMatchObject({
      amount: 1_250, currency: 'BHD', summary: 'Subscription canceled, 1.250 BHD credited for unused time',
    });
  });

  it('pause and resume; a resume shows the new period', () => {
    expect(entryOf(sub('SubscriptionPaused', { at: '2026-03-01T00:00:00.000Z' }))).toMatchObject({ type: 'subscription.paused', status: 'paused', summary: 'Subscription paused' });
    expect(entryOf(sub('SubscriptionResumed', {
      at: '2026-04-01T00:00:00.000Z', billingCycleAnchor: '2026-04-01T00:00:00.000Z', currentPeriod: period(0, '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
    }))).toMatchObject({ type: 'subscription.resumed', status: 'active', periodStart: '2026-04-01T00:00:00.000Z', periodEnd: '2026-05-01T00:00:00.000Z', summary: 'Subscription resumed, billing again from 2026-04-01T00:00:00.000Z' });
  });

  it('a price change shows both prices, its proration, and a restarted period', () => {
    const price = { amount: 3_000, currency: 'USD', interval: 'month', intervalCount: 3 };
    const prorated = entryOf(sub('SubscriptionPriceChanged', {
      at: '2026-03-30T12:00:00.000Z', previousPrice: monthly, price: { ...price, intervalCount: 1 },
      proration: { credit: 1_000, charge: 1_500, remainingSeconds: 15, periodSeconds: 30 }, restartedPeriod: null,
    }));
    expect(prorated).toMatchObject({ type: 'subscription.price_changed', amount: 3_000, currency: 'USD', summary: 'Price changed from 20.00 USD every month to 30.00 USD every month; prorated: 10.00 USD credit, 15.00 USD charge' });
    expect(prorated).not.toHaveProperty('periodStart');
    const restarted = entryOf(sub('SubscriptionPriceChanged', {
      at: '2026-03-30T12:00:00.000Z', previousPrice: monthly, price, proration: null,
      restartedPeriod: { billingCycleAnchor: '2026-03-30T12:00:00.000Z', currentPeriod: period(0, '2026-03-30T12:00:00.000Z', '2026-06-30T12:00:00.000Z') },
    }));
    expect(restarted).toMatchObject({
      periodStart: '2026-03-30T12:00:00.000Z', periodEnd: '2026-06-30T12:00:00.000Z',
      summary: 'Price changed from 20.00 USD every month to 30.00 USD every 3 months; billing restarts 2026-03-30T12:00:00.000Z to 2026-06-30T12:00:00.000Z',
    });
  });

  it('an update shows cancel-at-period-end and a new payment method; a metadata-only update makes no entry', () => {
    expect(entryOf(sub('SubscriptionUpdated', { cancelAtPeriodEnd: true }))).toMatchObject({ type: 'subscription.updated', summary: 'Subscription will cancel at the end of its period' });
    expect(entryOf(sub('SubscriptionUpdated', { cancelAtPeriodEnd: false, paymentMethod: 'pm_card_visa' }))?.summary)
      .toBe('Subscription will no longer cancel at the end of its period; payment method changed');
    expect(entryOf(sub('SubscriptionUpdated', { metadata: { plan: 'gold' } }))).toBeUndefined();
  });

  it('formats prices per interval', () => {
    expect(formatPrice({ amount: 500, currency: toCurrencyCode('EUR'), interval: 'week', intervalCount: 2 })).toBe('5.00 EUR every 2 weeks');
    expect(formatPrice({ amount: 1, currency: toCurrencyCode('JPY'), interval: 'day', intervalCount: 1 })).toBe('1 JPY every day');
  });
});

describe('invoice entries', () => {
  const issued = (over: Record<string, unknown> = {}) => inv('InvoiceIssued', {
    billingReason: 'subscription_cycle', total: 2_000, periodStart: '2026-02-15T12:00:00.000Z', periodEnd: '2026-03-15T12:00:00.000Z',
    issuedAt: '2026-02-15T12:00:00.000Z', testClock: null,
    lines: [{ kind: 'subscription', amount: 2_000, description: 'x', periodStart: '2026-02-15T12:00:00.000Z', periodEnd: '2026-03-15T12:00:00.000Z' }],
    ...over,
  });

  it('an issued invoice shows its total, reason and period', () => {
    const event = issued();
    expect(activityRecordOf(event)).toEqual({
      customerId: 'cus_1',
      entry: {
        id: event.id, type: 'invoice.issued', occurredAt: meta.occurredAt, position: `${n}.3`,
        subscriptionId: SUB, invoiceId: INV, amount: 2_000, currency: 'USD', status: 'open', billingReason: 'subscription_cycle',
        periodStart: '2026-02-15T12:00:00.000Z', periodEnd: '2026-03-15T12:00:00.000Z',
        summary: 'Invoice of 20.00 USD issued (renewal) for 2026-02-15T12:00:00.000Z to 2026-03-15T12:00:00.000Z',
      },
    });
    expect(entryOf(issued({ billingReason: 'subscription_update', total: 500 }))?.summary).toMatch(/^Invoice of 5\.00 USD issued \(price change\)/);
    expect(entryOf(issued({ billingReason: 'subscription_create' }))?.summary).toMatch(/\(new subscription\)/);
    expect(entryOf(issued({ billingReason: 'subscription_resume' }))?.summary).toMatch(/\(resumed subscription\)/);
  });

  it('paid (with its payment, or with nothing due), failed attempts with the next try, uncollectible and void', () => {
    expect(entryOf(inv('InvoicePaid', { amountPaid: 2_000, paymentId: PAY, at: meta.occurredAt }))).toMatchObject({
      type: 'invoice.paid', paymentId: PAY, amount: 2_000, currency: 'USD', status: 'paid', summary: 'Invoice paid: 20.00 USD',
    });
    const free = entryOf(inv('InvoicePaid', { amountPaid: 0, paymentId: null, at: meta.occurredAt }));
    expect(free).toMatchObject({ amount: 0, summary: 'Invoice paid, nothing was due' });
    expect(free).not.toHaveProperty('paymentId');
    expect(entryOf(inv('InvoicePaymentFailed', { attempt: 2, paymentId: PAY, failureCode: 'card_declined', at: meta.occurredAt, nextAttemptAt: '2026-03-18T12:00:00.000Z' }))).toMatchObject({
      type: 'invoice.payment_failed', paymentId: PAY, status: 'open', summary: 'Invoice payment attempt 2 failed (card_declined); next attempt at 2026-03-18T12:00:00.000Z',
    });
    expect(entryOf(inv('InvoicePaymentFailed', { attempt: 4, paymentId: PAY, failureCode: 'card_declined', at: meta.occurredAt, nextAttemptAt: null }))?.summary)
      .toBe('Invoice payment attempt 4 failed (card_declined); no more attempts');
    expect(entryOf(inv('InvoiceMarkedUncollectible', { at: meta.occurredAt }))).toMatchObject({ type: 'invoice.uncollectible', status: 'uncollectible', summary: 'Invoice marked uncollectible' });
    expect(entryOf(inv('InvoiceVoided', { at: meta.occurredAt }))).toMatchObject({ type: 'invoice.voided', status: 'void', summary: 'Invoice voided' });
  });

  it('an attempt makes no entry (its payment has its own)', () => {
    expect(ACTIVITY_EVENT_TYPES).not.toContain('InvoicePaymentAttempted');
    expect(entryOf(inv('InvoicePaymentAttempted', { attempt: 1, paymentId: PAY, at: meta.occurredAt }))).toBeUndefined();
  });

  it('refuses an event the upcaster refuses, rather than writing a broken entry', () => {
    expect(() => activityRecordOf(inv('InvoiceIssued', { total: -5 }))).toThrow(/has no valid total/);
    expect(() => activityRecordOf(sub('SubscriptionActivated', { subscriptionId: 'nope', invoiceId: INV }))).toThrow(/names no subscription id/);
  });
});

describe('a billing scenario\'s log', () => {
  it('maps every subscription and invoice fact of a real run, each entry one the API schema accepts, on its customer\'s timeline', async () => {
    const ctx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };
    const { store, subscriptions, settle, clocks } = inMemoryBilling();
    const clock = await clocks.create(new Date('2026-01-15T12:00:00Z'), null, ctx);
    if (!clock.ok) throw new Error(clock.error.code);
    const price = { amount: 1_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };
    const made: string[] = [];
    for (const [customerId, paymentMethod, trialDays] of [['cus_ok', 'pm_card_visa', null], ['cus_declined', 'pm_card_chargeDeclinedInsufficientFunds', null], ['cus_trial', 'pm_card_visa', 10], ['cus_trial_declined', 'pm_card_chargeDeclinedInsufficientFunds', 10]] as const) {
      const s = await subscriptions.create({ customerId, price, paymentMethod, trialDays, metadata: {}, testClock: clock.value.testClockId }, ctx);
      if (!s.ok) throw new Error(s.error.code);
      made.push(s.value.state.subscriptionId);
    }
    await settle();
    await subscriptions.update(made[0]!, { cancelAtPeriodEnd: true }, ctx);
    await clocks.advance(clock.value.testClockId, new Date('2026-03-01T00:00:00Z'), ctx);

    const billing = store.events.filter((e) => e.streamId.startsWith('subscription-') || e.streamId.startsWith('invoice-'));
    const types = new Set<string>();
    for (const event of billing) {
      const record = activityRecordOf(event);
      if (event.type === 'InvoicePaymentAttempted') {
        expect(record).toBeUndefined();
        continue;
      }
      expect(record, event.type).toBeDefined();
      expect(record!.customerId).toBe((event.data as { customerId: string }).customerId);
      // What GET /v1/customers/:id/activity and the `activity` change send: the schema accepts it and drops nothing.
      expect(ActivityEntrySchema.parse(record!.entry)).toEqual(record!.entry);
      expect(activityWireForm(record!.entry)).toEqual(record!.entry);
      types.add(record!.entry.type);
    }
    expect(types).toEqual(new Set([
      'subscription.created', 'subscription.renewed', 'subscription.activated', 'subscription.past_due', 'subscription.expired',
      'subscription.updated', 'subscription.canceled', 'invoice.issued', 'invoice.paid', 'invoice.payment_failed', 'invoice.uncollectible', 'invoice.voided',
    ]));
  });
});
