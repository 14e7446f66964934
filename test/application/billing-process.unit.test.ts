import { describe, expect, it } from 'vitest';
import { billingStepsFor } from '../support/billing-steps.js';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId } from '../../src/domain/ids.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/*
 * The billing process manager over the in-memory store, with the real payment handlers and
 * the simulated processor: what an event leads to, and that handling the whole log again
 * (a restart from an old checkpoint) writes nothing more.
 */

const ctx: CommandContext = { correlationId: 'req-1', actor: 'key:ak_1', customerScope: null };
const price = { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

function setup() {
  const store = new InMemoryEventStore();
  let now = new Date('2026-01-31T09:00:00.000Z');
  const clock = { now: () => now };
  const ids = new SystemIdGenerator();
  const subscriptions = new SubscriptionCommandHandlers(store, { now: () => Promise.resolve(now) }, ids);
  const payments = new PaymentCommandHandlers(store, new SimulatedPaymentProvider(), clock, ids);
  const steps = billingStepsFor(store, subscriptions, ids, clock, { payments });
  const process = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  let cursor = 0;
  /** Handles every event not handled yet, including those the handling writes; bounded. */
  const drain = async (): Promise<void> => {
    for (let guard = 0; cursor < store.events.length; guard++) {
      if (guard > 1_000) throw new Error('billing did not settle');
      const outcome = await process.handle(store.events[cursor] as RecordedEvent);
      if (outcome.kind !== 'done') throw new Error(`step left for later: ${outcome.reason}`);
      cursor++;
    }
  };
  const replayAll = async (): Promise<number> => {
    const before = store.events.length;
    for (const e of [...store.events]) await process.handle(e);
    return store.events.length - before;
  };
  return { store, subscriptions, steps, drain, replayAll, setNow: (iso: string) => (now = new Date(iso)) };
}

const types = (events: readonly RecordedEvent[]): string[] => events.map((e) => e.type);

describe('the billing process manager', () => {
  it('a subscription without a trial: its first invoice is issued, charged and paid, and the subscription is active', async () => {
    const { store, subscriptions, drain } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    await drain();
    expect(types(store.events)).toEqual([
      'SubscriptionCreated',
      'InvoiceIssued',
      'InvoicePaymentAttempted',
      // The charge, intent first: its request, then the processor's answer.
      'PaymentRequested',
      'PaymentAuthorized',
      'PaymentCaptured',
      'InvoicePaid',
      'SubscriptionActivated',
    ]);
    const payment = store.events.find((e) => e.type === 'PaymentAuthorized');
    expect(payment?.data).toMatchObject({ amount: 2_000, currency: 'USD', customerId: 'cus_1', metadata: { subscriptionId: created.value.state.subscriptionId, attempt: '1' } });
    expect(payment?.metadata).toMatchObject({ actor: 'billing' });
  });

  it('handling the whole log again, as after a crash before the checkpoint moved, writes nothing: no second invoice, no second charge', async () => {
    const { subscriptions, drain, replayAll } = setup();
    await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: null }, ctx);
    await drain();
    expect(await replayAll()).toBe(0);
    expect(await replayAll()).toBe(0);
  });

  it('a declined first invoice leaves the subscription incomplete with a retry scheduled a day later', async () => {
    const { store, subscriptions, drain } = setup();
    await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds', trialDays: null, metadata: {}, testClock: null }, ctx);
    await drain();
    expect(types(store.events)).toEqual(['SubscriptionCreated', 'InvoiceIssued', 'InvoicePaymentAttempted', 'PaymentRequested', 'PaymentFailed', 'InvoicePaymentFailed']);
    expect(store.events.at(-1)?.data).toMatchObject({ failureCode: 'insufficient_funds', nextAttemptAt: '2026-02-01T09:00:00.000Z' });
  });

  it('a renewal that fails makes it past_due; after a card change the retry pays it and it is active again', async () => {
    const { store, subscriptions, steps, drain, setNow } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    const id = created.value.state.subscriptionId;
    await drain();
    await subscriptions.update(id, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }, ctx);
    setNow('2026-02-28T09:00:00.000Z');
    await subscriptions.startNextPeriod(id, new Date('2026-02-28T09:00:00.000Z'), { actor: 'billing-clock', correlationId: 'tick', causationId: 'tick', seed: `renew:${id}:1`, at: new Date('2026-02-28T09:00:00.000Z') });
    await drain();
    const renewal = store.events.filter((e) => e.type === 'InvoiceIssued').at(-1);
    expect(store.events.at(-1)?.type).toBe('SubscriptionPastDue');
    const invoiceId = (renewal?.data as { invoiceId: InvoiceId }).invoiceId;
    // The customer fixes the card; the billing clock's retry comes at the scheduled time.
    await subscriptions.update(id, { paymentMethod: 'pm_card_visa' }, ctx);
    setNow('2026-03-01T09:00:00.000Z');
    const retried = await steps.execute({ kind: 'attempt_payment', invoiceId, attempt: 2, at: '2026-03-01T09:00:00.000Z' }, { actor: 'billing-clock', correlationId: 'tick', causationId: 'tick', seed: `retry:${invoiceId}:2`, at: new Date('2026-03-01T09:00:00.000Z') });
    expect(retried).toMatchObject({ kind: 'done', position: store.events.at(-1)?.position });
    await drain();
    expect(types(store.events).slice(-6)).toEqual(['InvoicePaymentAttempted', 'PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured', 'InvoicePaid', 'SubscriptionActivated']);
    // Two payments for the renewal invoice (one per attempt), one of them captured.
    const attempts = store.events.filter((e) => e.type === 'PaymentAuthorized' || e.type === 'PaymentFailed').filter((e) => (e.data as { metadata: { invoiceId?: string } }).metadata.invoiceId === invoiceId);
    expect(types(attempts)).toEqual(['PaymentFailed', 'PaymentAuthorized']);
  });
});

describe('an incomplete subscription that expires', () => {
  it('has its first invoice voided, so dunning never charges for a subscription that no longer exists', async () => {
    const { store, subscriptions, steps, drain, setNow } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    const id = created.value.state.subscriptionId;
    await drain();
    setNow('2026-02-01T08:00:00.000Z');
    const expired = await subscriptions.expireIncomplete(id, new Date('2026-02-01T08:00:00.000Z'), { actor: 'billing-clock', correlationId: 'tick', causationId: 'tick', seed: `expire:${id}`, at: new Date('2026-02-01T08:00:00.000Z') });
    expect(expired).toMatchObject({ ok: true, value: { state: { status: 'incomplete_expired' } } });
    await drain();
    expect(store.events.at(-1)?.type).toBe('InvoiceVoided');
    const invoiceId = (store.events.find((e) => e.type === 'InvoiceIssued')?.data as { invoiceId: InvoiceId }).invoiceId;
    // The retry the schedule had planned finds a void invoice: no attempt, no payment.
    const before = store.events.length;
    // Done, at the invoice's newest event (a settle reads past what whoever voided it wrote).
    expect(await steps.execute({ kind: 'attempt_payment', invoiceId, attempt: 2, at: '2026-02-01T09:00:00.000Z' }, { actor: 'billing-clock', correlationId: 'tick', causationId: 'tick', seed: 'retry', at: new Date('2026-02-01T09:00:00.000Z') })).toEqual({ kind: 'done', position: store.events.at(-1)?.position });
    expect(store.events.length).toBe(before);
  });
});
