import { describe, expect, it } from 'vitest';
import type { DueWork } from '../../src/application/subscriptions/billing-schedule.js';
import { dueBy, invoiceDueWork, subscriptionDueWork } from '../../src/application/subscriptions/billing-schedule.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../src/domain/ids.js';
import type { InvoiceCommand, InvoiceState } from '../../src/domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS, decideInvoice, foldInvoice } from '../../src/domain/invoice/index.js';
import type { SubscriptionCommand, SubscriptionState } from '../../src/domain/subscription/index.js';
import { decideSubscription, foldSubscription } from '../../src/domain/subscription/index.js';

const id = 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId;
const invoiceId = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
const price = { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

function subscription(...commands: SubscriptionCommand[]): SubscriptionState {
  let state: SubscriptionState = { exists: false };
  for (const cmd of commands) {
    const d = decideSubscription(state, cmd);
    if (!d.ok) throw new Error(d.error.code);
    state = foldSubscription(d.value, state);
  }
  return state;
}
const create = (trialDays: number | null): SubscriptionCommand => ({
  type: 'CreateSubscription',
  subscriptionId: id,
  customerId: 'cus_1',
  price,
  paymentMethod: 'pm_card_visa',
  metadata: {},
  testClock: 'clock_x',
  trialDays,
  now: new Date('2026-01-31T09:00:00.000Z'),
});

describe('what the billing clock has to do', () => {
  it('an incomplete subscription expires 23 hours after creation; an active one renews at its period end; a paused or ended one has nothing', () => {
    expect(subscriptionDueWork(subscription(create(null)))).toEqual({ kind: 'expire_incomplete', subscriptionId: id, dueAt: '2026-02-01T08:00:00.000Z', testClock: 'clock_x' });
    const active = subscription(create(null), { type: 'RecordInvoicePaid', subscriptionId: id, invoiceId });
    expect(subscriptionDueWork(active)).toEqual({ kind: 'start_next_period', subscriptionId: id, dueAt: '2026-02-28T09:00:00.000Z', testClock: 'clock_x' });
    expect(subscriptionDueWork(subscription(create(7)))).toMatchObject({ kind: 'start_next_period', dueAt: '2026-02-07T09:00:00.000Z' });
    expect(subscriptionDueWork(subscription(create(null), { type: 'RecordInvoicePaid', subscriptionId: id, invoiceId }, { type: 'PauseSubscription', subscriptionId: id, now: new Date('2026-02-02T00:00:00Z') }))).toBeUndefined();
    expect(subscriptionDueWork(subscription(create(null), { type: 'CancelSubscription', subscriptionId: id, prorate: false, now: new Date('2026-02-02T00:00:00Z') }))).toBeUndefined();
  });

  it('an open invoice with a failed attempt is retried at its next attempt time, as the next attempt number', () => {
    const commands: InvoiceCommand[] = [
      {
        type: 'IssueInvoice',
        invoice: { invoiceId, subscriptionId: id, customerId: 'cus_1', currency: price.currency },
        billingReason: 'subscription_cycle',
        lines: [{ kind: 'subscription', amount: 2_000, description: 'x', periodStart: 'a', periodEnd: 'b' }],
        periodStart: '2026-02-28T09:00:00.000Z',
        periodEnd: '2026-03-31T09:00:00.000Z',
        testClock: null,
        now: new Date('2026-02-28T09:00:00.000Z'),
      },
      { type: 'AttemptInvoicePayment', invoiceId, attempt: 1, paymentId: 'pay_01JBZ5Q5N00000000000000001' as PaymentId, now: new Date('2026-02-28T09:00:00Z') },
      {
        type: 'RecordInvoicePaymentFailure',
        invoiceId,
        paymentId: 'pay_01JBZ5Q5N00000000000000001' as PaymentId,
        failureCode: 'card_declined',
        now: new Date('2026-02-28T09:00:01Z'),
        retryScheduleDays: DEFAULT_RETRY_SCHEDULE_DAYS,
      },
    ];
    let state: InvoiceState = { exists: false };
    for (const cmd of commands) {
      const d = decideInvoice(state, cmd);
      if (!d.ok) throw new Error(d.error.code);
      state = foldInvoice(d.value, state);
    }
    expect(invoiceDueWork(state)).toEqual({ kind: 'retry_invoice', invoiceId, attempt: 2, dueAt: '2026-03-01T09:00:01.000Z', testClock: null });
  });

  it('runs what is due by a time in time order; at one instant, retries before expiries before renewals', () => {
    const items: DueWork[] = [
      { kind: 'start_next_period', subscriptionId: 'sub_B' as SubscriptionId, dueAt: '2026-03-01T00:00:00.000Z', testClock: null },
      { kind: 'retry_invoice', invoiceId, attempt: 2, dueAt: '2026-03-01T00:00:00.000Z', testClock: null },
      { kind: 'start_next_period', subscriptionId: 'sub_A' as SubscriptionId, dueAt: '2026-02-01T00:00:00.000Z', testClock: null },
      { kind: 'start_next_period', subscriptionId: 'sub_C' as SubscriptionId, dueAt: '2026-04-01T00:00:00.000Z', testClock: null },
    ];
    expect(dueBy(items, new Date('2026-03-01T00:00:00.000Z')).map((w) => ('subscriptionId' in w ? w.subscriptionId : w.invoiceId))).toEqual(['sub_A', invoiceId, 'sub_B']);
  });
});
