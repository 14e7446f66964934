import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/application/ledger/ledger-entry.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { CHART_OF_ACCOUNTS, findAccount } from '../../src/domain/ledger/chart.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import { LEDGER_EVENT_TYPES, postingsFor } from '../../src/projections/ledger/posting-rules.js';
import { playScenario, stepsArb } from './support/ledger-scenarios.js';

const PAY = 'pay_01JD0000000000000000000000';
const RE = 're_01JD0000000000000000000000';

const recorded = (type: string, data: unknown, schemaVersion = 1): RecordedEvent => ({
  id: '00000000-0000-4000-8000-000000000001',
  type,
  streamId: 'payment-x',
  revision: streamRevision(0),
  position: position(7n, 3n),
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion },
  recordedAt: new Date(0),
});

const ref = { paymentId: PAY, customerId: 'cus_1', currency: 'USD' };
const refundRef = { refundId: RE, paymentId: PAY, customerId: 'cus_1', currency: 'USD', amount: 300 };

const lines = (entry: LedgerEntry | undefined): string[] =>
  (entry?.postings ?? []).map((p) => `${p.side === 'debit' ? 'Dr' : 'Cr'} ${p.account} ${p.amount} ${p.currency}`);

describe('Ledger posting rules', () => {
  it('PaymentCaptured: Dr provider_clearing / Cr revenue, keeping the event id and position', () => {
    const entry = postingsFor(recorded('PaymentCaptured', { ...ref, amount: 1_000, amountReleased: 0 }));
    expect(lines(entry)).toEqual(['Dr provider_clearing 1000 USD', 'Cr revenue 1000 USD']);
    expect(entry).toMatchObject({ id: '00000000-0000-4000-8000-000000000001', eventId: '00000000-0000-4000-8000-000000000001', position: '7.3', paymentId: PAY, refundId: null });
  });

  it('a reservation moves the amount into the pending pair, and its release or settlement moves it out', () => {
    expect(lines(postingsFor(recorded('PaymentRefundReserved', { ...ref, refundId: RE, amount: 300, reason: null, metadata: {} })))).toEqual([
      'Dr refund_reservations 300 USD',
      'Cr refunds_pending 300 USD',
    ]);
    for (const type of ['PaymentRefundReleased', 'PaymentRefundSettled']) {
      expect(lines(postingsFor(recorded(type, { ...ref, refundId: RE, amount: 300, outcome: 'failed' })))).toEqual([
        'Dr refunds_pending 300 USD',
        'Cr refund_reservations 300 USD',
      ]);
    }
  });

  it('RefundSucceeded: Dr refunds / Cr provider_clearing', () => {
    const entry = postingsFor(recorded('RefundSucceeded', { ...refundRef, providerRefundId: 'rf_1' }));
    expect(lines(entry)).toEqual(['Dr refunds 300 USD', 'Cr provider_clearing 300 USD']);
    expect(entry).toMatchObject({ paymentId: PAY, refundId: RE, customerId: 'cus_1' });
  });

  it('events that move no money post nothing', () => {
    expect(postingsFor(recorded('RefundRequested', { ...refundRef, reason: null, metadata: {} }))).toBeUndefined();
    expect(postingsFor(recorded('RefundFailed', { ...refundRef, providerRefundId: null, failureReason: 'x' }))).toBeUndefined();
    expect(postingsFor(recorded('PaymentCanceled', { ...ref, amountReleased: 5, reason: null }))).toBeUndefined();
    expect(postingsFor(recorded('PaymentCaptured', { ...ref, amount: 0, amountReleased: 10 }))).toBeUndefined();
  });

  it('an event whose data breaks its contract stops the projection at that event', () => {
    expect(() => postingsFor(recorded('RefundSucceeded', { ...refundRef, amount: 1.5 }))).toThrow(ProjectionEventError);
    expect(() => postingsFor(recorded('RefundSucceeded', { ...refundRef, refundId: 'nope' }))).toThrow(/refund id/);
    expect(() => postingsFor(recorded('PaymentRefundSettled', { ...ref, refundId: RE, amount: 1, currency: 'XYZ' }))).toThrow(/currency/);
    expect(() => postingsFor(recorded('PaymentCaptured', { ...ref, paymentId: 'x', amount: 1, amountReleased: 0 }))).toThrow(ProjectionEventError);
    expect(() => postingsFor(recorded('PaymentRefundSettled', { ...ref, refundId: RE, amount: 1 }, 2))).toThrow(/newer/);
  });

  it('every rule posts to accounts in the chart, on their active list', () => {
    const names = new Set(CHART_OF_ACCOUNTS.map((a) => a.name));
    expect(names.size).toBe(CHART_OF_ACCOUNTS.length);
    for (const a of CHART_OF_ACCOUNTS) expect(a.normalBalance).toBe(['asset', 'expense', 'contra_revenue'].includes(a.kind) ? 'debit' : 'credit');
    const { events } = playScenario([
      { kind: 'create', payment: 0, amount: 500, currency: 'EUR', automatic: true, declined: false },
      { kind: 'refund', payment: 0, percent: 20 },
      { kind: 'resolve', refund: 0, outcome: 'succeeded', paymentFirst: true },
      { kind: 'refund', payment: 0, percent: 20 },
      { kind: 'resolve', refund: 0, outcome: 'failed', paymentFirst: false },
    ]);
    const used = new Set(events.flatMap((e) => postingsFor(e)?.postings.map((p) => p.account) ?? []));
    for (const name of used) expect(findAccount(name)?.active).toBe(true);
    // The payments' rules; invoices and subscriptions reach the rest (ledger-billing-rules.unit.test.ts checks the union).
    expect([...used].sort()).toEqual(['provider_clearing', 'refund_reservations', 'refunds', 'refunds_pending', 'revenue']);
    expect(new Set(events.filter((e) => postingsFor(e)).map((e) => e.type))).toEqual(new Set(LEDGER_EVENT_TYPES.filter((t) => t.startsWith('Payment') || t.startsWith('Refund'))));
  });
});

/** The ledger's sums, in memory: per currency, and per (payment, account). */
function book(events: readonly RecordedEvent[]) {
  const perCurrency = new Map<string, { debits: number; credits: number }>();
  const perPaymentAccount = new Map<string, number>();
  const perAccount = new Map<string, number>();
  for (const event of events) {
    const entry = postingsFor(event);
    if (!entry) continue;
    const entryBalance = new Map<string, number>();
    for (const p of entry.postings) {
      expect(p.amount).toBeGreaterThan(0);
      expect(findAccount(p.account)).toBeDefined();
      const c = perCurrency.get(p.currency) ?? { debits: 0, credits: 0 };
      if (p.side === 'debit') c.debits += p.amount;
      else c.credits += p.amount;
      perCurrency.set(p.currency, c);
      const signedCredit = p.side === 'credit' ? p.amount : -p.amount;
      entryBalance.set(p.currency, (entryBalance.get(p.currency) ?? 0) + signedCredit);
      const key = `${entry.paymentId}/${p.account}`;
      perPaymentAccount.set(key, (perPaymentAccount.get(key) ?? 0) + signedCredit);
      perAccount.set(p.account, (perAccount.get(p.account) ?? 0) + signedCredit);
    }
    for (const [, balance] of entryBalance) expect(balance).toBe(0);
  }
  return { perCurrency, perPaymentAccount, perAccount };
}

describe('Ledger property (pure posting rules)', () => {
  it('the generated histories do refund (so the property below is not vacuous)', () => {
    const scenarios = fc.sample(stepsArb(40), { numRuns: 300, seed: 7 }).map(playScenario);
    const having = (type: string): number => scenarios.filter((s) => s.events.some((e) => e.type === type)).length;
    expect(having('RefundSucceeded')).toBeGreaterThan(30);
    expect(having('PaymentRefundReleased')).toBeGreaterThan(30);
  });

  it('for any history, every currency balances, and per payment revenue + refunds = captured − succeeded refunds', () => {
    fc.assert(
      fc.property(stepsArb(40), (steps) => {
        const { events, expected, openReservations } = playScenario(steps);
        const { perCurrency, perPaymentAccount, perAccount } = book(events);
        for (const [, totals] of perCurrency) expect(totals.debits).toBe(totals.credits);
        for (const [paymentId, e] of expected) {
          const net = (perPaymentAccount.get(`${paymentId}/revenue`) ?? 0) + (perPaymentAccount.get(`${paymentId}/refunds`) ?? 0);
          expect(net).toBe(e.captured - e.refunded);
        }
        // With every refund resolved, nothing is left pending.
        if (openReservations === 0) {
          expect(perAccount.get('refunds_pending') ?? 0).toBe(0);
          expect(perAccount.get('refund_reservations') ?? 0).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
