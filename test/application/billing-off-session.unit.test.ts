import { describe, expect, it } from 'vitest';
import { billingStepsFor } from '../support/billing-steps.js';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { AuthorizeRequest, AuthorizeResult } from '../../src/application/ports/payment-provider.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toSubscriptionView } from '../../src/application/subscriptions/subscription-view.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { SubscriptionId } from '../../src/domain/ids.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/*
 * Saved cards (issue 10): billing charges an invoice off-session, as the subscription's
 * processor customer; a card that needs authentication then declines, which is a failed
 * attempt that dunning retries, not an outage.
 */

/** The simulated processor, remembering what it was asked. */
class RecordingProvider extends SimulatedPaymentProvider {
  readonly asked: AuthorizeRequest[] = [];
  override authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.asked.push(request);
    return super.authorize(request);
  }
}

const ctx: CommandContext = { correlationId: 'req-1', actor: 'key:ak_1', customerScope: null };
const price = { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

function setup() {
  const store = new InMemoryEventStore();
  let now = new Date('2026-01-31T09:00:00.000Z');
  const clock = { now: () => now };
  const ids = new SystemIdGenerator();
  const provider = new RecordingProvider();
  const subscriptions = new SubscriptionCommandHandlers(store, { now: () => Promise.resolve(now) }, ids);
  const payments = new PaymentCommandHandlers(store, provider, clock, ids);
  const steps = billingStepsFor(store, subscriptions, ids, clock, { payments });
  const process = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  let cursor = 0;
  const drain = async (): Promise<void> => {
    for (let guard = 0; cursor < store.events.length; guard++) {
      if (guard > 1_000) throw new Error('billing did not settle');
      const outcome = await process.handle(store.events[cursor] as RecordedEvent);
      if (outcome.kind !== 'done') throw new Error(`step left for later: ${outcome.reason}`);
      cursor++;
    }
  };
  const renew = async (id: SubscriptionId, at: string) => {
    now = new Date(at);
    await subscriptions.startNextPeriod(id, now, { actor: 'billing-clock', correlationId: 'tick', causationId: 'tick', seed: `renew:${id}:${at}`, at: now });
    await drain();
  };
  return { store, provider, subscriptions, drain, renew };
}

describe('billing charges a saved card off-session', () => {
  it('as the subscription\'s processor customer, recorded with the payment\'s request', async () => {
    const { store, provider, subscriptions, drain } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', providerCustomerId: 'cus_Saved1', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    expect(toSubscriptionView(created.value.state, created.value.revision, null).providerCustomerId).toBe('cus_Saved1');
    await drain();
    expect(provider.asked).toHaveLength(1);
    expect(provider.asked[0]).toMatchObject({ offSession: true, providerCustomerId: 'cus_Saved1', paymentMethod: 'pm_card_visa' });
    // In the log, so that the request's completion (a retry, the completer) asks the processor the same.
    expect(store.events.find((e) => e.type === 'PaymentRequested')?.data).toMatchObject({ offSession: true, providerCustomerId: 'cus_Saved1' });
    expect(store.events.at(-1)?.type).toBe('SubscriptionActivated');
  });

  it('a subscription without a processor customer is still charged off-session, with none', async () => {
    const { store, provider, subscriptions, drain } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    // Its event has no such field, as every event written before saved cards: it folds and shows as null.
    expect(store.events[0]?.data).not.toHaveProperty('providerCustomerId');
    expect(toSubscriptionView(created.value.state, created.value.revision, null).providerCustomerId).toBeNull();
    await drain();
    expect(provider.asked[0]?.offSession).toBe(true);
    expect(provider.asked[0]?.providerCustomerId ?? null).toBeNull();
  });

  it('a renewal on pm_card_authenticationRequired declines (authentication_required): a failed attempt, past_due, and dunning retries it', async () => {
    const { store, provider, subscriptions, drain, renew } = setup();
    const created = await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', providerCustomerId: 'cus_Saved1', trialDays: null, metadata: {}, testClock: null }, ctx);
    if (!created.ok) throw new Error(created.error.code);
    const id = created.value.state.subscriptionId;
    await drain();
    const updated = await subscriptions.update(id, { paymentMethod: 'pm_card_authenticationRequired', providerCustomerId: 'cus_Saved2' }, ctx);
    expect(updated).toMatchObject({ ok: true, value: { state: { providerCustomerId: 'cus_Saved2' } } });
    await renew(id, '2026-02-28T09:00:00.000Z');
    expect(provider.asked.at(-1)).toMatchObject({ offSession: true, providerCustomerId: 'cus_Saved2', paymentMethod: 'pm_card_authenticationRequired' });
    expect(store.events.slice(-4).map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentFailed', 'InvoicePaymentFailed', 'SubscriptionPastDue']);
    expect(store.events.find((e) => e.type === 'PaymentFailed')?.data).toMatchObject({ failureCode: 'authentication_required', declineCode: 'authentication_required' });
    // Dunning: the next attempt is scheduled a day later, as after any decline.
    expect(store.events.at(-2)?.data).toMatchObject({ failureCode: 'authentication_required', attempt: 1, nextAttemptAt: '2026-03-01T09:00:00.000Z' });
  });
});
