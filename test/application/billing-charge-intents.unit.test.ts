import { describe, expect, it } from 'vitest';
import { billingStepsFor } from '../support/billing-steps.js';
import type { CommandContext } from '../../src/application/command-context.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import type { AuthorizeRequest, AuthorizeResult } from '../../src/application/ports/payment-provider.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

/*
 * A subscription charge whose processor call fails after its request is in the log (intent
 * first): the step answers "retry later", and the retry, keyed like the first attempt by
 * the invoice and attempt, continues the same payment under the same processor key rather
 * than starting another.
 */

/** The simulated processor: unreachable while `down` > 0 (after the request reached it: the answer is what is lost). */
class FlakyProvider extends SimulatedPaymentProvider {
  down = 0;
  readonly keys: string[] = [];
  override async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    this.keys.push(request.idempotencyKey);
    const answer = await super.authorize(request);
    if (this.down > 0) {
      this.down--;
      throw new ProviderUnavailable('the answer was lost');
    }
    return answer;
  }
}

const ctx: CommandContext = { correlationId: 'req-1', actor: 'key:ak_1', customerScope: null };
const price = { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 };

describe('a subscription charge whose processor answer is lost after its request', () => {
  it('is retried by the billing process and continues the same payment under the same key', async () => {
    const store = new InMemoryEventStore();
    const now = new Date('2026-01-31T09:00:00.000Z');
    const ids = new SystemIdGenerator();
    const provider = new FlakyProvider();
    const subscriptions = new SubscriptionCommandHandlers(store, { now: () => Promise.resolve(now) }, ids);
    const payments = new PaymentCommandHandlers(store, provider, { now: () => now }, ids);
    const process = new BillingProcess(store, billingStepsFor(store, subscriptions, ids, { now: () => now }, { payments }), DEFAULT_BILLING_CONFIG);

    provider.down = 1;
    await subscriptions.create({ customerId: 'cus_1', price, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {}, testClock: null }, ctx);
    const waited: string[] = [];
    for (let cursor = 0, guard = 0; cursor < store.events.length; guard++) {
      if (guard > 100) throw new Error('billing did not settle');
      const event = store.events[cursor] as RecordedEvent;
      const outcome = await process.handle(event);
      // A step that must wait is handled again (the runner does so with backoff).
      if (outcome.kind === 'done') cursor++;
      else waited.push(event.type);
    }
    expect(waited).toEqual(['InvoicePaymentAttempted']);
    const paymentEvents = store.events.filter((e) => e.streamId.startsWith('payment-'));
    expect(new Set(paymentEvents.map((e) => e.streamId)).size).toBe(1);
    expect(paymentEvents.map((e) => e.type)).toEqual(['PaymentRequested', 'PaymentAuthorized', 'PaymentCaptured']);
    expect(provider.keys).toHaveLength(2);
    expect(provider.keys[1]).toBe(provider.keys[0]);
    expect(store.events.map((e) => e.type)).toContain('InvoicePaid');
  });
});
