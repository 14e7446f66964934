import fc from 'fast-check';
import type { LedgerEntry } from '../../../src/application/ledger/ledger-entry.js';
import type { RecordedEvent } from '../../../src/application/ports/event-store.js';
import type { BillingInterval } from '../../../src/domain/billing/recurrence.js';
import { toCurrencyCode } from '../../../src/domain/currency.js';
import type { InvoiceState } from '../../../src/domain/invoice/index.js';
import { evolveInvoice, upcastInvoiceEvent } from '../../../src/domain/invoice/index.js';
import { findAccount } from '../../../src/domain/ledger/chart.js';
import type { SubscriptionId } from '../../../src/domain/ids.js';
import { LedgerBooks } from '../../../src/projections/ledger/ledger-books.js';
import { postingsFor } from '../../../src/projections/ledger/posting-rules.js';
import { InMemoryEventStore } from '../../support/in-memory-event-store.js';
import { billingHarness, userCtx } from './billing-harness.js';
import { refundProratedCancels } from './proration-refunds.js';

/*
 * Random subscription lives, run through the real application code on a test clock in
 * memory, and the ledger the posting rules make of their log, with the sums a test checks.
 */

export type BillingStep =
  | { readonly kind: 'advance'; readonly days: number }
  | { readonly kind: 'change_price'; readonly amount: number; readonly interval: BillingInterval; readonly prorate: boolean }
  /** A new card: declining, or (not declining) one whose refunds fail (pm_card_refundFail). */
  | { readonly kind: 'card'; readonly declines: boolean; readonly refundsFail?: boolean }
  | { readonly kind: 'cancel'; readonly prorate: boolean }
  | { readonly kind: 'cancel_at_period_end' }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' };

export interface BillingLife {
  readonly trialDays: number | null;
  readonly declines: boolean;
  readonly amount: number;
  readonly interval: BillingInterval;
  readonly steps: readonly BillingStep[];
}

const GOOD_CARD = 'pm_card_visa';
const DECLINING_CARD = 'pm_card_chargeDeclinedInsufficientFunds';
const REFUNDS_FAIL_CARD = 'pm_card_refundFail';

export const billingLifeArb = (maxSteps: number): fc.Arbitrary<BillingLife> =>
  fc.record({
    trialDays: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) }),
    declines: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    amount: fc.integer({ min: 0, max: 50_000 }),
    interval: fc.constantFrom<BillingInterval>('month', 'month', 'week', 'year'),
    steps: fc.array(
      fc.oneof(
        { weight: 10, arbitrary: fc.integer({ min: 1, max: 45 }).map((days) => ({ kind: 'advance' as const, days })) },
        {
          weight: 2,
          arbitrary: fc.record({ amount: fc.integer({ min: 0, max: 50_000 }), interval: fc.constantFrom<BillingInterval>('month', 'week', 'year'), prorate: fc.boolean() }).map((r) => ({ kind: 'change_price' as const, ...r })),
        },
        { weight: 2, arbitrary: fc.record({ declines: fc.boolean(), refundsFail: fc.boolean() }).map((card) => ({ kind: 'card' as const, ...card })) },
        { weight: 1, arbitrary: fc.boolean().map((prorate) => ({ kind: 'cancel' as const, prorate })) },
        { weight: 1, arbitrary: fc.constant({ kind: 'cancel_at_period_end' as const }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
        { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
      ),
      { maxLength: maxSteps },
    ),
  });

/** Plays a life in memory; ends it (an immediate cancel, and time to settle dunning) unless `end` is false. Returns the whole log. */
export async function playBillingLife(life: BillingLife, end = true): Promise<readonly RecordedEvent[]> {
  const store = new InMemoryEventStore();
  const h = billingHarness(store);
  const start = new Date('2026-01-31T12:00:00Z');
  const created = await h.clocks.create(start, null, userCtx);
  if (!created.ok) throw new Error(created.error.code);
  const clockId = created.value.testClockId;
  let now = start.getTime();
  const advance = async (days: number): Promise<void> => {
    now += days * 86_400_000;
    const r = await h.clocks.advance(clockId, new Date(now), userCtx);
    if (!r.ok) throw new Error(r.error.code);
  };
  const price = (amount: number, interval: BillingInterval) => ({ amount, currency: toCurrencyCode('USD'), interval, intervalCount: 1 });
  const sub = await h.subscriptions.create(
    { customerId: 'cus_1', price: price(life.amount, life.interval), paymentMethod: life.declines ? DECLINING_CARD : GOOD_CARD, trialDays: life.trialDays, metadata: {}, testClock: clockId },
    userCtx,
  );
  if (!sub.ok) throw new Error(sub.error.code);
  const id: SubscriptionId = sub.value.state.subscriptionId;
  await h.settle();
  // Commands the subscription's state refuses (resume when not paused, anything once ended) are part of the game.
  for (const step of life.steps) {
    switch (step.kind) {
      case 'advance':
        await advance(step.days);
        break;
      case 'change_price':
        await h.subscriptions.changePrice(id, price(step.amount, step.interval), step.prorate, userCtx);
        break;
      case 'card':
        await h.subscriptions.update(id, { paymentMethod: step.declines ? DECLINING_CARD : step.refundsFail ? REFUNDS_FAIL_CARD : GOOD_CARD }, userCtx);
        break;
      case 'cancel':
        await h.subscriptions.cancel(id, step.prorate, userCtx);
        await h.settle();
        // The credit's refund, as the billing process manager issues it (nothing once it does so itself).
        await refundProratedCancels(store, h.log, () => new Date('2030-01-01T00:00:00Z'));
        break;
      case 'cancel_at_period_end':
        await h.subscriptions.update(id, { cancelAtPeriodEnd: true }, userCtx);
        break;
      case 'pause':
        await h.subscriptions.pause(id, userCtx);
        break;
      case 'resume':
        await h.subscriptions.resume(id, userCtx);
        break;
    }
    await h.settle();
  }
  if (end) {
    await h.subscriptions.cancel(id, false, userCtx);
    await h.settle();
    // Dunning of an invoice still open runs out (retries within 5 days of its first failure).
    await advance(10);
  }
  await h.settle();
  return h.log;
}

export interface LedgerSums {
  readonly entries: readonly LedgerEntry[];
  /** Balance on the account's normal side (chart), in minor units. */
  balance(account: string): number;
  readonly books: LedgerBooks;
}

/** The ledger of a log through the pure rules, one books object throughout (as consecutive batches would leave it). */
export function ledgerOf(log: readonly RecordedEvent[], books: LedgerBooks = new LedgerBooks()): LedgerSums {
  const entries: LedgerEntry[] = [];
  for (const event of log) {
    const entry = postingsFor(event, books);
    if (entry) entries.push(entry);
  }
  const debitMinusCredit = new Map<string, number>();
  for (const e of entries) for (const p of e.postings) debitMinusCredit.set(p.account, (debitMinusCredit.get(p.account) ?? 0) + (p.side === 'debit' ? p.amount : -p.amount));
  return {
    entries,
    books,
    balance(account) {
      const a = findAccount(account);
      if (!a) throw new Error(`no account ${account}`);
      const net = debitMinusCredit.get(account) ?? 0;
      return a.normalBalance === 'debit' ? net : 0 - net;
    },
  };
}

/** Each invoice's final state, by the domain's own fold. */
export function invoicesOf(log: readonly RecordedEvent[]): Map<string, InvoiceState & { exists: true }> {
  const out = new Map<string, InvoiceState & { exists: true }>();
  for (const e of log) {
    if (!e.streamId.startsWith('invoice-')) continue;
    const event = upcastInvoiceEvent(e.type, e.data, e.metadata.schemaVersion);
    out.set(event.data.invoiceId, evolveInvoice(out.get(event.data.invoiceId) ?? { exists: false }, event));
  }
  return out;
}
