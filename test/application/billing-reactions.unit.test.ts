import { describe, expect, it } from 'vitest';
import type { BillingAction } from '../../src/application/subscriptions/billing-reactions.js';
import { reactToInvoiceEvent, reactToSubscriptionEvent } from '../../src/application/subscriptions/billing-reactions.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../src/domain/ids.js';
import type { InvoiceCommand, InvoiceEvent, InvoiceState } from '../../src/domain/invoice/index.js';
import { DEFAULT_RETRY_SCHEDULE_DAYS, decideInvoice, foldInvoice } from '../../src/domain/invoice/index.js';
import type { SubscriptionCommand, SubscriptionEvent, SubscriptionPrice, SubscriptionState } from '../../src/domain/subscription/index.js';
import { decideSubscription, foldSubscription } from '../../src/domain/subscription/index.js';

const id = 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId;
const price: SubscriptionPrice = { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 };
const config = { afterDunning: 'cancel' as const };

function decideAll(state: SubscriptionState, ...commands: SubscriptionCommand[]): { state: SubscriptionState; events: SubscriptionEvent[] } {
  const events: SubscriptionEvent[] = [];
  for (const cmd of commands) {
    const d = decideSubscription(state, cmd);
    if (!d.ok) throw new Error(`${cmd.type}: ${d.error.code}`);
    events.push(...d.value);
    state = foldSubscription(d.value, state);
  }
  return { state, events };
}

const create = (trialDays: number | null): SubscriptionCommand => ({
  type: 'CreateSubscription',
  subscriptionId: id,
  customerId: 'cus_1',
  price,
  paymentMethod: 'pm_card_visa',
  metadata: {},
  testClock: 'clock_1',
  trialDays,
  now: new Date('2026-01-31T09:00:00.000Z'),
});

describe('what a subscription event asks of billing', () => {
  it('created without a trial: period 0 is invoiced at once, for the price, seeded by the period start', () => {
    const { events } = decideAll({ exists: false }, create(null));
    expect(reactToSubscriptionEvent(events[0]!, undefined, 'evt-1')).toEqual<BillingAction[]>([
      {
        kind: 'issue_invoice',
        invoice: {
          subscriptionId: id,
          customerId: 'cus_1',
          currency: price.currency,
          billingReason: 'subscription_create',
          lines: [{ kind: 'subscription', amount: 2_000, description: '2000 USD every month', periodStart: '2026-01-31T09:00:00.000Z', periodEnd: '2026-02-28T09:00:00.000Z' }],
          periodStart: '2026-01-31T09:00:00.000Z',
          periodEnd: '2026-02-28T09:00:00.000Z',
          testClock: 'clock_1',
          idSeed: 'period:2026-01-31T09:00:00.000Z',
          at: '2026-01-31T09:00:00.000Z',
        },
      },
    ]);
  });

  it('created with a trial: nothing until the trial ends; then period 0 is invoiced as a cycle', () => {
    const created = decideAll({ exists: false }, create(7));
    expect(reactToSubscriptionEvent(created.events[0]!, undefined, 'evt-1')).toEqual([]);
    const started = decideAll(created.state, { type: 'StartNextPeriod', subscriptionId: id, now: new Date('2026-02-07T09:00:00.000Z') });
    expect(reactToSubscriptionEvent(started.events[0]!, { price, testClock: 'clock_1' }, 'evt-1')).toMatchObject([
      { kind: 'issue_invoice', invoice: { billingReason: 'subscription_cycle', periodStart: '2026-02-07T09:00:00.000Z', idSeed: 'period:2026-02-07T09:00:00.000Z' } },
    ]);
  });

  it('a prorated price change is invoiced on its own: credit and charge lines, seeded by the change time', () => {
    const active = decideAll({ exists: false }, create(null), { type: 'RecordInvoicePaid', subscriptionId: id, invoiceId: 'in_01JBZ5Q5N0000000000000000B' as InvoiceId });
    const changed = decideAll(active.state, { type: 'ChangePrice', subscriptionId: id, price: { ...price, amount: 3_000 }, prorate: true, now: new Date('2026-02-21T09:00:00.000Z') });
    expect(reactToSubscriptionEvent(changed.events[0]!, { price, testClock: null }, 'evt-1')).toMatchObject([
      {
        kind: 'issue_invoice',
        invoice: {
          billingReason: 'subscription_update',
          idSeed: 'price-change:evt-1',
          lines: [
            { kind: 'proration_credit', amount: -500 },
            { kind: 'proration_charge', amount: 750 },
          ],
        },
      },
    ]);
    // Not prorated: nothing to invoice now; the new price applies from the next period.
    const plain = decideAll(active.state, { type: 'ChangePrice', subscriptionId: id, price: { ...price, amount: 3_000 }, prorate: false, now: new Date('2026-02-21T09:00:00.000Z') });
    expect(reactToSubscriptionEvent(plain.events[0]!, { price, testClock: null }, 'evt-1')).toEqual([]);
  });
});

describe('what an invoice event asks of billing', () => {
  const invoiceId = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
  const pay = (n: number): PaymentId => `pay_01JBZ5Q5N000000000000000${String(n).padStart(2, '0')}` as PaymentId;
  const ref = { invoiceId, subscriptionId: id, customerId: 'cus_1', currency: price.currency };
  function run(...commands: InvoiceCommand[]): { state: InvoiceState; events: InvoiceEvent[] } {
    let state: InvoiceState = { exists: false };
    const events: InvoiceEvent[] = [];
    for (const cmd of commands) {
      const d = decideInvoice(state, cmd);
      if (!d.ok) throw new Error(`${cmd.type}: ${d.error.code}`);
      events.push(...d.value);
      state = foldInvoice(d.value, state);
    }
    return { state, events };
  }
  const issue: InvoiceCommand = {
    type: 'IssueInvoice',
    invoice: ref,
    billingReason: 'subscription_cycle',
    lines: [{ kind: 'subscription', amount: 2_000, description: 'x', periodStart: 'a', periodEnd: 'b' }],
    periodStart: '2026-02-28T09:00:00.000Z',
    periodEnd: '2026-03-31T09:00:00.000Z',
    testClock: null,
    now: new Date('2026-02-28T09:00:00.000Z'),
  };
  const attempt = (n: number, at: string): InvoiceCommand => ({ type: 'AttemptInvoicePayment', invoiceId, attempt: n, paymentId: pay(n), now: new Date(at) });
  const fail = (n: number, at: string): InvoiceCommand => ({ type: 'RecordInvoicePaymentFailure', invoiceId, paymentId: pay(n), failureCode: 'card_declined', now: new Date(at), retryScheduleDays: DEFAULT_RETRY_SCHEDULE_DAYS });

  it('issued → first attempt; attempted → charge it; paid → tell the subscription', () => {
    const { events } = run(issue, attempt(1, '2026-02-28T09:00:00Z'), { type: 'RecordInvoicePaymentSucceeded', invoiceId, paymentId: pay(1), now: new Date('2026-02-28T09:00:01Z') });
    expect(events.flatMap((e) => reactToInvoiceEvent(e, config)).map((a) => a.kind)).toEqual(['attempt_payment', 'charge_attempt', 'record_invoice_paid']);
  });

  it('a zero invoice is paid as issued: no attempt, the subscription hears it was paid', () => {
    const { events } = run({ ...issue, lines: [{ kind: 'subscription', amount: 0, description: 'free', periodStart: 'a', periodEnd: 'b' }] });
    expect(events.flatMap((e) => reactToInvoiceEvent(e, config)).map((a) => a.kind)).toEqual(['record_invoice_paid']);
  });

  it('a failure with retries left tells the subscription; the one that spends dunning also ends it as configured', () => {
    const first = run(issue, attempt(1, '2026-02-28T09:00:00Z'), fail(1, '2026-02-28T09:00:01Z'));
    expect(reactToInvoiceEvent(first.events.at(-1)!, config).map((a) => a.kind)).toEqual(['record_invoice_failed']);
    const spent = run(
      issue,
      attempt(1, '2026-02-28T09:00:00Z'),
      fail(1, '2026-02-28T09:00:01Z'),
      attempt(2, '2026-03-01T09:00:01Z'),
      fail(2, '2026-03-01T09:00:02Z'),
      attempt(3, '2026-03-03T09:00:01Z'),
      fail(3, '2026-03-03T09:00:02Z'),
      attempt(4, '2026-03-05T09:00:01Z'),
      fail(4, '2026-03-05T09:00:02Z'),
    );
    expect(reactToInvoiceEvent(spent.events.at(-1)!, { afterDunning: 'mark_unpaid' })).toEqual([
      { kind: 'record_invoice_failed', subscriptionId: id, invoiceId },
      { kind: 'exhaust_dunning', subscriptionId: id, invoiceId, then: 'mark_unpaid', at: '2026-03-05T09:00:02.000Z' },
      { kind: 'mark_uncollectible', invoiceId, at: '2026-03-05T09:00:02.000Z' },
    ]);
  });
});
