import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/application/command-context.js';
import type { SystemCause } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, SubscriptionId } from '../../src/domain/ids.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';

const ctx: CommandContext = { correlationId: 'req-1', actor: 'key:ak_1', customerScope: null };
const input = { customerId: 'cus_1', price: { amount: 2_000, currency: toCurrencyCode('USD'), interval: 'month' as const, intervalCount: 1 }, paymentMethod: 'pm_card_visa', trialDays: null, metadata: {} };
const invoice = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;

function setup(start = '2026-01-31T09:00:00.000Z') {
  const store = new InMemoryEventStore();
  let now = new Date(start);
  const clock = { now: () => now };
  const handlers = new SubscriptionCommandHandlers(store, clock, new SystemIdGenerator());
  return { store, handlers, setNow: (iso: string) => (now = new Date(iso)) };
}
const cause = (seed: string): SystemCause => ({ actor: 'billing-clock', correlationId: 'tick-1', causationId: 'evt-1', seed });

async function activeSubscription(handlers: SubscriptionCommandHandlers): Promise<SubscriptionId> {
  const created = await handlers.create(input, ctx);
  if (!created.ok) throw new Error(created.error.code);
  const id = created.value.state.subscriptionId;
  const paid = await handlers.recordInvoicePaid(id, invoice, cause(`paid:${id}:0`));
  if (!paid.ok) throw new Error(paid.error.code);
  return id;
}

describe('SubscriptionCommandHandlers', () => {
  it('creates on the real clock, incomplete without a trial; an id the service never issues is not found', async () => {
    const { handlers } = setup();
    const created = await handlers.create(input, ctx);
    expect(created).toMatchObject({ ok: true, value: { unchanged: false, state: { status: 'incomplete', customerId: 'cus_1', createdAt: '2026-01-31T09:00:00.000Z' } } });
    expect(await handlers.cancel('sub_nope', false, ctx)).toEqual({ ok: false, error: { code: 'subscription_not_found', subscriptionId: 'sub_nope' } });
  });

  it('the same idempotency key creates one subscription: a retry whose first answer was lost gets it, unchanged', async () => {
    const { store, handlers } = setup();
    const keyed: CommandContext = { ...ctx, idempotency: { key: 'k-1', firstSeenAt: new Date('2026-01-31T09:00:00Z') } };
    const first = await handlers.create(input, keyed);
    const retry = await handlers.create(input, keyed);
    if (!first.ok || !retry.ok) throw new Error('both succeed');
    expect(retry.value.state.subscriptionId).toBe(first.value.state.subscriptionId);
    expect(retry.value.unchanged).toBe(true);
    expect(store.events).toHaveLength(1);
    // Another actor's key with the same text is another request.
    const other = await handlers.create(input, { ...keyed, actor: 'key:ak_2' });
    expect(other.ok && other.value.state.subscriptionId).not.toBe(first.value.state.subscriptionId);
  });

  it('a customer-scoped caller acts only for its customer; another customer’s subscription does not exist for it', async () => {
    const { handlers } = setup();
    expect(await handlers.create(input, { ...ctx, customerScope: 'cus_2' })).toEqual({ ok: false, error: { code: 'customer_forbidden', customerId: 'cus_1' } });
    const id = await activeSubscription(handlers);
    expect(await handlers.pause(id, { ...ctx, customerScope: 'cus_2' })).toEqual({ ok: false, error: { code: 'subscription_not_found', subscriptionId: id } });
    expect(await handlers.pause(id, { ...ctx, customerScope: 'cus_1' })).toMatchObject({ ok: true, value: { state: { status: 'paused' } } });
  });

  it('two schedulers renewing the same subscription at once write one period start', async () => {
    const { store, handlers } = setup();
    const id = await activeSubscription(handlers);
    const before = store.events.length;
    const at = new Date('2026-02-28T09:00:00.000Z');
    const [a, b] = await Promise.all([handlers.startNextPeriod(id, at, cause(`renew:${id}:1`)), handlers.startNextPeriod(id, at, cause(`renew:${id}:1`))]);
    expect(store.events.length).toBe(before + 1);
    expect(store.events.at(-1)?.type).toBe('SubscriptionPeriodStarted');
    // The loser either decided again on the renewed state (nothing due any more) or re-appended
    // the same derived event ids, which the store recognised as the write already made.
    const outcomes = [a, b].map((r) => (r.ok ? (r.value.unchanged ? 'unchanged' : 'written') : r.error.code));
    expect(outcomes.filter((o) => o === 'written')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'written')[0]).toMatch(/^(unchanged|subscription_not_due)$/);
  });

  it('a concurrent write between load and append is decided again on the fresh state', async () => {
    const { store, handlers } = setup();
    const id = await activeSubscription(handlers);
    let slipped = false;
    store.beforeAppend = async () => {
      if (slipped) return;
      slipped = true;
      await handlers.update(id, { cancelAtPeriodEnd: true }, ctx);
    };
    const renewed = await handlers.startNextPeriod(id, new Date('2026-02-28T09:00:00.000Z'), cause(`renew:${id}:1`));
    // The update landed first, so the period end cancels instead of renewing.
    expect(renewed).toMatchObject({ ok: true, value: { state: { status: 'canceled' } } });
    expect(store.events.map((e) => e.type).slice(-2)).toEqual(['SubscriptionUpdated', 'SubscriptionCanceled']);
  });

  it('invoice outcomes reported twice change the subscription once', async () => {
    const { store, handlers } = setup();
    const id = await activeSubscription(handlers);
    await handlers.startNextPeriod(id, new Date('2026-02-28T09:00:00.000Z'), cause(`renew:${id}:1`));
    const failedOnce = await handlers.recordInvoicePaymentFailed(id, invoice, cause(`failed:${invoice}:1`));
    const count = store.events.length;
    const failedAgain = await handlers.recordInvoicePaymentFailed(id, invoice, cause(`failed:${invoice}:1`));
    expect(failedOnce).toMatchObject({ ok: true, value: { unchanged: false, state: { status: 'past_due' } } });
    expect(failedAgain).toMatchObject({ ok: true, value: { unchanged: true, state: { status: 'past_due' } } });
    expect(store.events.length).toBe(count);
    expect(store.events.at(-1)?.metadata).toMatchObject({ actor: 'billing-clock', causationId: 'evt-1' });
  });
});
