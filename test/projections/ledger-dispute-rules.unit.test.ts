import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/application/ledger/ledger-entry.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { disputeHoldsFunds } from '../../src/domain/dispute/index.js';
import { findAccount } from '../../src/domain/ledger/chart.js';
import { postingsFor } from '../../src/projections/ledger/posting-rules.js';
import { ProjectionEventError } from '../../src/projections/projection.js';
import type { Scenario } from './support/ledger-scenarios.js';
import { playScenario, stepsArb } from './support/ledger-scenarios.js';

const ref = {
  disputeId: 'dp_01JD0000000000000000000001',
  paymentId: 'pay_01JD0000000000000000000000',
  customerId: 'cus_1',
  amount: 10_000,
  currency: 'USD',
  providerDisputeId: 'dp_sim_1',
  reason: 'fraudulent',
  evidenceDueBy: null,
};

const recorded = (type: string, data: unknown): RecordedEvent => ({
  id: '00000000-0000-4000-8000-000000000009',
  type,
  streamId: 'dispute-x',
  revision: streamRevision(0),
  position: position(7n, 3n),
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
  recordedAt: new Date(0),
});

const opened = (status: string, feeAmount = 1_500) => recorded('DisputeOpened', { ...ref, status, feeAmount, providerPaymentId: 'pi_sim_1', openedAt: '2026-01-01T00:00:00.000Z' });
const moved = (type: 'DisputeUpdated' | 'DisputeClosed', previousStatus: string, status: string, previousFeeAmount = 1_500, feeAmount = 1_500) =>
  recorded(type, { ...ref, previousStatus, status, previousFeeAmount, feeAmount });

const lines = (entry: LedgerEntry | undefined): string[] => (entry?.postings ?? []).map((p) => `${p.side === 'debit' ? 'Dr' : 'Cr'} ${p.account} ${p.amount}`);

describe('Ledger posting rules for disputes', () => {
  it('opening a chargeback withholds the amount and charges the fee', () => {
    const entry = postingsFor(opened('needs_response'));
    expect(lines(entry)).toEqual(['Dr disputed_funds 10000', 'Dr dispute_fees 1500', 'Cr provider_clearing 11500']);
    expect(entry).toMatchObject({ paymentId: ref.paymentId, refundId: null, customerId: 'cus_1', eventType: 'DisputeOpened' });
  });

  it('an inquiry withholds nothing until it escalates', () => {
    expect(postingsFor(opened('warning_needs_response', 0))).toBeUndefined();
    expect(lines(postingsFor(moved('DisputeUpdated', 'warning_needs_response', 'needs_response', 0, 1_500)))).toEqual(['Dr disputed_funds 10000', 'Dr dispute_fees 1500', 'Cr provider_clearing 11500']);
    expect(postingsFor(moved('DisputeClosed', 'warning_under_review', 'warning_closed', 0, 0))).toBeUndefined();
  });

  it('winning reinstates the amount; losing moves it to chargebacks', () => {
    expect(lines(postingsFor(moved('DisputeClosed', 'under_review', 'won')))).toEqual(['Dr provider_clearing 10000', 'Cr disputed_funds 10000']);
    expect(lines(postingsFor(moved('DisputeClosed', 'under_review', 'lost')))).toEqual(['Dr chargebacks 10000', 'Cr disputed_funds 10000']);
    // Lost straight from an inquiry (the escalation's webhook never came): the money leaves clearing now.
    expect(lines(postingsFor(moved('DisputeClosed', 'warning_needs_response', 'lost', 0, 1_500)))).toEqual(['Dr chargebacks 10000', 'Dr dispute_fees 1500', 'Cr provider_clearing 11500']);
  });

  it('a fee given back reverses its part, netted with the rest of the entry', () => {
    expect(lines(postingsFor(moved('DisputeUpdated', 'needs_response', 'under_review', 1_500, 0)))).toEqual(['Dr provider_clearing 1500', 'Cr dispute_fees 1500']);
    expect(lines(postingsFor(moved('DisputeClosed', 'under_review', 'won', 1_500, 0)))).toEqual(['Dr provider_clearing 11500', 'Cr disputed_funds 10000', 'Cr dispute_fees 1500']);
    expect(postingsFor(moved('DisputeUpdated', 'needs_response', 'needs_response', 1_500, 1_500))).toBeUndefined();
  });

  it('posts only to active accounts, and stops at a dispute event that breaks its contract', () => {
    for (const e of [opened('needs_response'), moved('DisputeClosed', 'under_review', 'lost')]) {
      for (const p of postingsFor(e)?.postings ?? []) expect(findAccount(p.account)?.active).toBe(true);
    }
    expect(() => postingsFor(recorded('DisputeOpened', { ...ref, status: 'mystery' }))).toThrow(ProjectionEventError);
  });
});

/** Per currency and account, the signed balance on the debit side. */
function debitBalances(events: readonly RecordedEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const event of events) {
    const entry = postingsFor(event);
    const perCurrency = new Map<string, number>();
    for (const p of entry?.postings ?? []) {
      const signed = p.side === 'debit' ? p.amount : -p.amount;
      out.set(`${p.currency}/${p.account}`, (out.get(`${p.currency}/${p.account}`) ?? 0) + signed);
      perCurrency.set(p.currency, (perCurrency.get(p.currency) ?? 0) + signed);
    }
    for (const [, net] of perCurrency) expect(net).toBe(0);
  }
  return out;
}

/** What the disputes' final states say each dispute account holds, per currency. */
function expectedDisputeBalances(scenario: Scenario): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, amount: number) => out.set(key, (out.get(key) ?? 0) + amount);
  for (const d of scenario.disputes) {
    add(`${d.currency}/disputed_funds`, disputeHoldsFunds(d.status) ? d.amount : 0);
    add(`${d.currency}/chargebacks`, d.status === 'lost' ? d.amount : 0);
    add(`${d.currency}/dispute_fees`, d.feeAmount);
  }
  return out;
}

describe('Ledger property for disputes (pure posting rules)', () => {
  it('the generated histories open, win and lose disputes (so the property is not vacuous)', () => {
    const scenarios = fc.sample(stepsArb(40), { numRuns: 300, seed: 11 }).map(playScenario);
    const having = (status: string): number => scenarios.filter((s) => s.disputes.some((d) => d.status === status)).length;
    expect(having('won')).toBeGreaterThan(10);
    expect(having('lost')).toBeGreaterThan(10);
    expect(scenarios.filter((s) => s.disputes.some((d) => disputeHoldsFunds(d.status))).length).toBeGreaterThan(10);
  });

  it('entries balance; disputed_funds holds the open disputes, chargebacks the lost, dispute_fees the fees, whatever the order of deliveries', () => {
    fc.assert(
      fc.property(stepsArb(40), (steps) => {
        const scenario = playScenario(steps);
        const balances = debitBalances(scenario.events);
        for (const [key, amount] of expectedDisputeBalances(scenario)) expect(balances.get(key) ?? 0).toBe(amount);
        for (const [key, amount] of balances) {
          if (/\/(disputed_funds|chargebacks|dispute_fees)$/.test(key)) expect(expectedDisputeBalances(scenario).get(key) ?? 0).toBe(amount);
        }
      }),
      { numRuns: 500 },
    );
  });
});
