import { describe, expect, it } from 'vitest';
import { changeWireData, invoiceWireForm, paymentWireForm, refundWireForm, subscriptionWireForm } from '../../src/infrastructure/http/wire-form.js';
import type { InvoiceView } from '../../src/application/subscriptions/invoice-view.js';
import type { SubscriptionView } from '../../src/application/subscriptions/subscription-view.js';
import type { RefundView } from '../../src/application/refunds/refund-view.js';
import type { PaymentView } from '../../src/application/payments/payment-view.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId } from '../../src/domain/ids.js';
import { toPaymentId, toRefundId, toSubscriptionId } from '../../src/domain/ids.js';

const view: PaymentView = {
  id: toPaymentId('pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'),
  object: 'payment',
  status: 'failed',
  customerId: 'cus_1',
  amount: 100,
  amountCapturable: 0,
  amountCaptured: 0,
  amountReleased: 0,
  amountRefunded: 0,
  currency: toCurrencyCode('USD'),
  captureMethod: 'automatic',
  paymentMethod: 'pm_card_chargeDeclined',
  providerCustomerId: null,
  description: null,
  metadata: { zeta: '1', a: '2', orderId: '3' },
  failure: { code: 'card_declined', declineCode: 'generic_decline', message: 'declined' },
  cancellationReason: null,
  pendingOperation: null,
  revision: '0',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** The object as jsonb hands it back: keys by length, then bytes, at every level. */
function jsonbOrder(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value).sort(([a], [b]) => a.length - b.length || (a < b ? -1 : 1));
  return Object.fromEntries(entries.map(([k, v]) => [k, jsonbOrder(v)]));
}

describe('the wire form of a payment', () => {
  it('has the schema\'s key order and sorted metadata, whatever order it was stored in', () => {
    const expected = JSON.stringify({ ...view, metadata: { a: '2', orderId: '3', zeta: '1' } });
    expect(JSON.stringify(paymentWireForm(view))).toBe(expected);
    expect(JSON.stringify(paymentWireForm(jsonbOrder(view) as PaymentView))).toBe(expected);
    expect(JSON.stringify(changeWireData('payment.updated', jsonbOrder(view)))).toBe(expected);
  });

  it('keeps fields the schema does not know yet, after the known ones, and a "__proto__" metadata key as a key', () => {
    const extended = JSON.parse(`{"refunded":5,${JSON.stringify(view).slice(1).replace('"metadata":{', '"metadata":{"__proto__":"p",')}`) as PaymentView;
    const wire = JSON.stringify(paymentWireForm(extended));
    expect(wire.startsWith('{"id":')).toBe(true);
    expect(wire).toContain('"updatedAt":"2026-01-01T00:00:00.000Z","refunded":5}');
    expect(wire).toContain('"metadata":{"__proto__":"p","a":"2"');
  });

  it('leaves the data of other changes as stored', () => {
    const data = { z: 1, a: 2 };
    expect(changeWireData('refunded.x', data)).toBe(data);
    expect(changeWireData('unknown.change', data)).toBe(data);
  });

  it('orders a ledger entry as GET /v1/ledger/entries does, postings included', () => {
    const data = { postings: [{ currency: 'USD', amount: 5, side: 'debit', account: 'refunds' }], position: '1.1', id: 'e', object: 'ledger_entry' };
    expect(JSON.stringify(changeWireData('ledger.entry', data))).toBe(
      JSON.stringify({ id: 'e', object: 'ledger_entry', position: '1.1', postings: [{ account: 'refunds', side: 'debit', amount: 5, currency: 'USD' }] }),
    );
  });
});

describe('the wire form of a refund', () => {
  const refund: RefundView = {
    id: toRefundId('re_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'),
    object: 'refund',
    paymentId: view.id,
    customerId: 'cus_1',
    amount: 40,
    currency: toCurrencyCode('USD'),
    status: 'failed',
    reason: 'duplicate',
    failureReason: 'expired_or_canceled_card',
    metadata: { zeta: '1', a: '2' },
    revision: '1',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-02T00:00:00.000Z',
  };

  it('has the schema\'s key order and sorted metadata, in GET and in realtime changes alike', () => {
    const expected = JSON.stringify({ ...refund, metadata: { a: '2', zeta: '1' } });
    expect(JSON.stringify(refundWireForm(jsonbOrder(refund) as RefundView))).toBe(expected);
    expect(JSON.stringify(changeWireData('refund.created', jsonbOrder(refund)))).toBe(expected);
    expect(JSON.stringify(changeWireData('refund.updated', jsonbOrder(refund)))).toBe(expected);
  });
});

describe('the wire form of a subscription and an invoice', () => {
  const subscription: SubscriptionView = {
    id: toSubscriptionId('sub_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'),
    object: 'subscription',
    status: 'active',
    customerId: 'cus_1',
    price: { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month', intervalCount: 1 },
    paymentMethod: 'pm_card_visa',
    providerCustomerId: null,
    currentPeriodStart: '2026-01-01T00:00:00.000Z',
    currentPeriodEnd: '2026-02-01T00:00:00.000Z',
    billingCycleAnchor: '2026-01-01T00:00:00.000Z',
    trialStart: null,
    trialEnd: null,
    cancelAtPeriodEnd: false,
    canceledAt: null,
    pausedAt: null,
    testClock: null,
    latestInvoice: 'in_01JD3Q4V5W6X7Y8Z9A0B1C2D3E',
    metadata: { zeta: '1', a: '2' },
    revision: '2',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const invoice: InvoiceView = {
    id: 'in_01JD3Q4V5W6X7Y8Z9A0B1C2D3E' as InvoiceId,
    object: 'invoice',
    status: 'paid',
    subscriptionId: subscription.id,
    customerId: 'cus_1',
    currency: toCurrencyCode('USD'),
    billingReason: 'subscription_create',
    lines: [{ kind: 'subscription', amount: 2_000, description: 'One month', periodStart: '2026-01-01T00:00:00.000Z', periodEnd: '2026-02-01T00:00:00.000Z' }],
    total: 2_000,
    amountPaid: 2_000,
    amountDue: 0,
    periodStart: '2026-01-01T00:00:00.000Z',
    periodEnd: '2026-02-01T00:00:00.000Z',
    attemptCount: 1,
    nextPaymentAttempt: null,
    attempts: [{ attempt: 1, paymentId: toPaymentId('pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'), at: '2026-01-01T00:00:00.000Z', outcome: 'succeeded', failureCode: null, settledAt: '2026-01-01T00:00:00.000Z' }],
    payments: [toPaymentId('pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E')],
    testClock: null,
    paidAt: '2026-01-01T00:00:00.000Z',
    revision: '2',
    createdAt: '2026-01-01T00:00:00.000Z',
  };

  it('has the schema\'s key order (nested objects too) and sorted metadata, in GET and in realtime changes alike', () => {
    const expected = JSON.stringify({ ...subscription, metadata: { a: '2', zeta: '1' } });
    expect(JSON.stringify(subscriptionWireForm(jsonbOrder(subscription) as SubscriptionView))).toBe(expected);
    for (const type of ['subscription.created', 'subscription.updated']) expect(JSON.stringify(changeWireData(type, jsonbOrder(subscription))), type).toBe(expected);
    const stored = JSON.parse(JSON.stringify(jsonbOrder({ ...invoice, lines: invoice.lines.map(jsonbOrder), attempts: invoice.attempts.map(jsonbOrder) }))) as unknown;
    expect(JSON.stringify(stored)).not.toBe(JSON.stringify(invoice));
    expect(JSON.stringify(invoiceWireForm(stored as InvoiceView))).toBe(JSON.stringify(invoice));
    for (const type of ['invoice.created', 'invoice.updated']) expect(JSON.stringify(changeWireData(type, stored)), type).toBe(JSON.stringify(invoice));
  });
});
