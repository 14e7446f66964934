import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodBoundary } from '../../src/domain/billing/recurrence.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, SubscriptionId } from '../../src/domain/ids.js';
import type { SubscriptionCommand, SubscriptionState } from '../../src/domain/subscription/index.js';
import { SUBSCRIPTION_TERMINAL_STATUSES, decideSubscription, evolveSubscription } from '../../src/domain/subscription/index.js';

const id = 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId;
const invoiceId = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
const T0 = Date.parse('2026-01-31T09:00:00.000Z');

const price = fc.record({
  amount: fc.integer({ min: 0, max: 1_000_000 }),
  currency: fc.constantFrom(toCurrencyCode('USD'), toCurrencyCode('JPY')),
  interval: fc.constantFrom('day' as const, 'week' as const, 'month' as const, 'year' as const),
  intervalCount: fc.integer({ min: 1, max: 3 }),
});

/** A command at a moment `offset` ms after creation (commands come in time order). */
const command = (now: Date): fc.Arbitrary<SubscriptionCommand> =>
  fc.oneof(
    fc.constant<SubscriptionCommand>({ type: 'StartNextPeriod', subscriptionId: id, now }),
    fc.constant<SubscriptionCommand>({ type: 'RecordInvoicePaid', subscriptionId: id, invoiceId }),
    fc.constant<SubscriptionCommand>({ type: 'RecordInvoicePaymentFailed', subscriptionId: id, invoiceId }),
    fc.constantFrom<'cancel' | 'mark_unpaid'>('cancel', 'mark_unpaid').map((then): SubscriptionCommand => ({ type: 'ExhaustDunning', subscriptionId: id, invoiceId, then, now })),
    fc.constant<SubscriptionCommand>({ type: 'ExpireIncomplete', subscriptionId: id, now }),
    fc.boolean().map((prorate): SubscriptionCommand => ({ type: 'CancelSubscription', subscriptionId: id, prorate, now })),
    fc.constant<SubscriptionCommand>({ type: 'PauseSubscription', subscriptionId: id, now }),
    fc.constant<SubscriptionCommand>({ type: 'ResumeSubscription', subscriptionId: id, now }),
    fc.tuple(price, fc.boolean()).map(([p, prorate]): SubscriptionCommand => ({ type: 'ChangePrice', subscriptionId: id, price: p, prorate, now })),
    fc.record({ cancelAtPeriodEnd: fc.option(fc.boolean(), { nil: undefined }), paymentMethod: fc.option(fc.constantFrom('pm_card_visa', 'pm_card_mastercard'), { nil: undefined }) }).map(
      (u): SubscriptionCommand => ({ type: 'UpdateSubscription', subscriptionId: id, ...u }),
    ),
  );

const scenario = fc
  .tuple(price, fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }), fc.array(fc.integer({ min: 0, max: 40 * 86_400_000 }), { maxLength: 40 }))
  .chain(([p, trialDays, gaps]) => {
    let t = T0;
    const times = gaps.map((gap) => new Date((t += gap)));
    return fc.tuple(fc.constant(p), fc.constant(trialDays), times.length === 0 ? fc.constant([]) : fc.tuple(...times.map(command)));
  });

describe('subscription properties over random command sequences', () => {
  it('decided events always apply, periods follow the anchored calendar, terminal states stay terminal, and an immediate repeat changes nothing', () => {
    fc.assert(
      fc.property(scenario, ([p, trialDays, commands]) => {
        const created = decideSubscription({ exists: false }, { type: 'CreateSubscription', subscriptionId: id, customerId: 'cus_1', price: p, paymentMethod: 'pm_card_visa', metadata: {}, testClock: null, trialDays, now: new Date(T0) });
        if (!created.ok) throw new Error(created.error.code);
        let state: SubscriptionState = created.value.reduce<SubscriptionState>(evolveSubscription, { exists: false });
        for (const cmd of commands) {
          const wasTerminal = state.exists && SUBSCRIPTION_TERMINAL_STATUSES.includes(state.status);
          const decided = decideSubscription(state, cmd);
          if (!decided.ok) continue;
          if (wasTerminal) expect(decided.value).toEqual([]);
          state = decided.value.reduce<SubscriptionState>(evolveSubscription, state);
          if (!state.exists) throw new Error('lost the subscription');
          const period = state.currentPeriod;
          expect(Date.parse(period.start)).toBeLessThan(Date.parse(period.end));
          if (period.kind === 'billing') {
            const r = { interval: state.price.interval, intervalCount: state.price.intervalCount };
            expect(period.start).toBe(periodBoundary(new Date(state.billingCycleAnchor), r, period.index).toISOString());
          }
          // Reports and clock ticks are idempotent: the same command again decides no events
          // (or is refused as not due / not allowed, which writes nothing either).
          if (cmd.type !== 'ChangePrice' && cmd.type !== 'ResumeSubscription' && cmd.type !== 'CancelSubscription') {
            const again = decideSubscription(state, cmd);
            if (again.ok && cmd.type !== 'StartNextPeriod') expect(again.value).toEqual([]);
          }
          if (cmd.type === 'CancelSubscription') expect(state.status).toBe('canceled');
        }
      }),
      { numRuns: 300 },
    );
  });
});
