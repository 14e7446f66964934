import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import type { InvoiceId, SubscriptionId } from '../../src/domain/ids.js';
import type { SubscriptionCommand, SubscriptionEvent, SubscriptionPrice, SubscriptionState } from '../../src/domain/subscription/index.js';
import { decideSubscription, foldSubscription } from '../../src/domain/subscription/index.js';

const id = 'sub_01JBZ5Q5N0000000000000000A' as SubscriptionId;
const invoice = 'in_01JBZ5Q5N0000000000000000B' as InvoiceId;
const usd = (amount: number, interval: SubscriptionPrice['interval'] = 'month', intervalCount = 1): SubscriptionPrice => ({
  amount,
  currency: toCurrencyCode('USD'),
  interval,
  intervalCount,
});
const at = (iso: string): Date => new Date(iso);
const T0 = '2026-01-31T09:00:00.000Z';

const create = (trialDays: number | null = null, price = usd(2_000)): SubscriptionCommand => ({
  type: 'CreateSubscription',
  subscriptionId: id,
  customerId: 'cus_1',
  price,
  paymentMethod: 'pm_card_visa',
  metadata: { plan: 'pro' },
  testClock: null,
  trialDays,
  now: at(T0),
});

/** given `commands` (each must succeed) → the state; then `when` → events or error. */
function given(...commands: SubscriptionCommand[]): { state: SubscriptionState; events: SubscriptionEvent[] } {
  let state: SubscriptionState = { exists: false };
  const events: SubscriptionEvent[] = [];
  for (const cmd of commands) {
    const decided = decideSubscription(state, cmd);
    if (!decided.ok) throw new Error(`given ${cmd.type} failed: ${decided.error.code}`);
    events.push(...decided.value);
    state = foldSubscription(decided.value, state);
  }
  return { state, events };
}
const when = (state: SubscriptionState, cmd: SubscriptionCommand) => decideSubscription(state, cmd);
const statusOf = (state: SubscriptionState): string | undefined => (state.exists ? state.status : undefined);

const paid: SubscriptionCommand = { type: 'RecordInvoicePaid', subscriptionId: id, invoiceId: invoice };
const failed: SubscriptionCommand = { type: 'RecordInvoicePaymentFailed', subscriptionId: id, invoiceId: invoice };
const next = (now: string): SubscriptionCommand => ({ type: 'StartNextPeriod', subscriptionId: id, now: at(now) });

describe('creating a subscription', () => {
  it('without a trial: incomplete, in its first billing period from now', () => {
    const { state, events } = given(create());
    expect(events.map((e) => e.type)).toEqual(['SubscriptionCreated']);
    expect(state).toMatchObject({
      status: 'incomplete',
      trialEnd: null,
      billingCycleAnchor: T0,
      currentPeriod: { kind: 'billing', index: 0, start: T0, end: '2026-02-28T09:00:00.000Z' },
    });
  });

  it('with a trial: trialing until the trial ends, billing anchored at the trial end', () => {
    const { state } = given(create(14));
    expect(state).toMatchObject({
      status: 'trialing',
      trialEnd: '2026-02-14T09:00:00.000Z',
      billingCycleAnchor: '2026-02-14T09:00:00.000Z',
      currentPeriod: { kind: 'trial', start: T0, end: '2026-02-14T09:00:00.000Z' },
    });
  });

  it('refuses a second creation and a nonsense trial', () => {
    expect(when(given(create()).state, create())).toMatchObject({ ok: false, error: { code: 'subscription_already_exists' } });
    for (const days of [0, -1, 1.5, 731]) expect(when({ exists: false }, create(days))).toMatchObject({ ok: false, error: { code: 'invalid_trial' } });
  });

  it('any other command on a subscription that does not exist is subscription_not_found', () => {
    expect(when({ exists: false }, paid)).toMatchObject({ ok: false, error: { code: 'subscription_not_found', subscriptionId: id } });
  });
});

describe('the first invoice', () => {
  it('paid: active', () => {
    expect(statusOf(given(create(), paid).state)).toBe('active');
  });

  it('failed: still incomplete, then incomplete_expired once 23 hours have passed, and never again anything', () => {
    const { state } = given(create(), failed);
    expect(statusOf(state)).toBe('incomplete');
    expect(when(state, { type: 'ExpireIncomplete', subscriptionId: id, now: at('2026-02-01T07:59:59.000Z') })).toMatchObject({
      ok: false,
      error: { code: 'subscription_not_due', dueAt: '2026-02-01T08:00:00.000Z' },
    });
    const expired = given(create(), failed, { type: 'ExpireIncomplete', subscriptionId: id, now: at('2026-02-01T08:00:00.000Z') }).state;
    expect(statusOf(expired)).toBe('incomplete_expired');
    // A late payment does not bring it back; user commands are refused.
    expect(when(expired, paid)).toEqual({ ok: true, value: [] });
    expect(when(expired, { type: 'CancelSubscription', subscriptionId: id, prorate: false, now: at('2026-02-02T00:00:00Z') })).toMatchObject({
      ok: false,
      error: { code: 'subscription_ended', status: 'incomplete_expired' },
    });
  });

  it('an expiry check after it was paid does nothing', () => {
    expect(when(given(create(), paid).state, { type: 'ExpireIncomplete', subscriptionId: id, now: at('2026-03-01T00:00:00Z') })).toEqual({ ok: true, value: [] });
  });

  it('an incomplete subscription does not renew', () => {
    expect(when(given(create()).state, next('2026-02-28T09:00:00.000Z'))).toMatchObject({ ok: false, error: { code: 'illegal_subscription_transition', from: 'incomplete' } });
  });
});

describe('renewals, trials and dunning', () => {
  it('renews one period at a time on the anchored calendar, never early, and twice asked is once done', () => {
    const { state } = given(create(), paid);
    expect(when(state, next('2026-02-28T08:59:59.999Z'))).toMatchObject({ ok: false, error: { code: 'subscription_not_due', dueAt: '2026-02-28T09:00:00.000Z' } });
    const renewed = given(create(), paid, next('2026-02-28T09:00:00.000Z'), next('2026-03-31T09:00:00.000Z')).state;
    expect(renewed).toMatchObject({ status: 'active', currentPeriod: { kind: 'billing', index: 2, start: '2026-03-31T09:00:00.000Z', end: '2026-04-30T09:00:00.000Z' } });
    // The second scheduler, deciding on the renewed state, finds nothing due.
    expect(when(renewed, next('2026-03-31T09:00:00.000Z'))).toMatchObject({ ok: false, error: { code: 'subscription_not_due' } });
  });

  it('a trial ends into billing period 0, still trialing until its invoice is paid', () => {
    const ended = given(create(7), next('2026-02-07T09:00:00.000Z')).state;
    expect(ended).toMatchObject({ status: 'trialing', currentPeriod: { kind: 'billing', index: 0, start: '2026-02-07T09:00:00.000Z', end: '2026-03-07T09:00:00.000Z' } });
    expect(statusOf(given(create(7), next('2026-02-07T09:00:00.000Z'), paid).state)).toBe('active');
    expect(statusOf(given(create(7), next('2026-02-07T09:00:00.000Z'), failed).state)).toBe('past_due');
  });

  it('a failed renewal is past_due; a successful retry returns it to active', () => {
    const pastDue = given(create(), paid, next('2026-02-28T09:00:00.000Z'), failed);
    expect(pastDue.events.at(-1)).toMatchObject({ type: 'SubscriptionPastDue', data: { invoiceId: invoice } });
    // Later failed retries change nothing more.
    expect(when(pastDue.state, failed)).toEqual({ ok: true, value: [] });
    expect(statusOf(given(create(), paid, next('2026-02-28T09:00:00.000Z'), failed, paid).state)).toBe('active');
  });

  it('exhausted dunning cancels, or marks unpaid, as configured; an unpaid one is reactivated by paying', () => {
    const pastDue = given(create(), paid, next('2026-02-28T09:00:00.000Z'), failed).state;
    const exhaust = (then: 'cancel' | 'mark_unpaid'): SubscriptionCommand => ({ type: 'ExhaustDunning', subscriptionId: id, invoiceId: invoice, then, now: at('2026-03-05T09:00:00Z') });
    expect(when(pastDue, exhaust('cancel'))).toMatchObject({ ok: true, value: [{ type: 'SubscriptionCanceled', data: { cause: 'dunning_exhausted', proration: null } }] });
    const unpaid = given(create(), paid, next('2026-02-28T09:00:00.000Z'), failed, exhaust('mark_unpaid')).state;
    expect(statusOf(unpaid)).toBe('unpaid');
    expect(statusOf(given(create(), paid, next('2026-02-28T09:00:00.000Z'), failed, exhaust('mark_unpaid'), paid).state)).toBe('active');
    // A retry that succeeded just before: nothing left to exhaust.
    expect(when(given(create(), paid).state, exhaust('cancel'))).toEqual({ ok: true, value: [] });
  });
});

describe('cancellation', () => {
  it('now, with the unused part of the paid period credited to the second, half up', () => {
    const { state } = given(create(), paid);
    // Period Jan 31 09:00 → Feb 28 09:00 = 28 days; 7 days left: 2000 × 7/28 = 500.
    const decided = when(state, { type: 'CancelSubscription', subscriptionId: id, prorate: true, now: at('2026-02-21T09:00:00.000Z') });
    expect(decided).toMatchObject({
      ok: true,
      value: [{ type: 'SubscriptionCanceled', data: { cause: 'requested', at: '2026-02-21T09:00:00.000Z', proration: { credit: 500, currency: 'USD', remainingSeconds: 7 * 86_400 } } }],
    });
  });

  it('without proration, or of an unpaid period, credits nothing; a canceled subscription stays canceled', () => {
    const cancelNow: SubscriptionCommand = { type: 'CancelSubscription', subscriptionId: id, prorate: true, now: at('2026-02-10T00:00:00Z') };
    expect(when(given(create()).state, cancelNow)).toMatchObject({ ok: true, value: [{ data: { proration: null } }] });
    const canceled = given(create(), paid, cancelNow).state;
    expect(statusOf(canceled)).toBe('canceled');
    for (const cmd of [cancelNow, next('2026-03-01T00:00:00Z'), { type: 'PauseSubscription', subscriptionId: id, now: at('2026-03-01T00:00:00Z') } as const]) {
      expect(when(canceled, cmd)).toMatchObject({ ok: false, error: { code: 'subscription_ended', status: 'canceled' } });
    }
    expect(when(canceled, paid)).toEqual({ ok: true, value: [] });
  });

  it('at period end: flagged by an update, carried out by the billing clock instead of renewing', () => {
    const flagged = given(create(), paid, { type: 'UpdateSubscription', subscriptionId: id, cancelAtPeriodEnd: true }).state;
    expect(flagged).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    expect(when(flagged, next('2026-02-28T09:00:00.000Z'))).toMatchObject({
      ok: true,
      value: [{ type: 'SubscriptionCanceled', data: { cause: 'cancel_at_period_end', at: '2026-02-28T09:00:00.000Z' } }],
    });
  });
});

describe('pause and resume', () => {
  it('a paused subscription issues nothing; resuming restarts billing from then', () => {
    const paused = given(create(), paid, { type: 'PauseSubscription', subscriptionId: id, now: at('2026-02-10T00:00:00Z') }).state;
    expect(paused).toMatchObject({ status: 'paused', pausedAt: '2026-02-10T00:00:00.000Z' });
    expect(when(paused, next('2026-03-01T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'illegal_subscription_transition', from: 'paused' } });
    expect(when(paused, { type: 'PauseSubscription', subscriptionId: id, now: at('2026-02-11T00:00:00Z') })).toEqual({ ok: true, value: [] });
    const resumed = given(create(), paid, { type: 'PauseSubscription', subscriptionId: id, now: at('2026-02-10T00:00:00Z') }, { type: 'ResumeSubscription', subscriptionId: id, now: at('2026-03-15T12:00:00Z') }).state;
    expect(resumed).toMatchObject({
      status: 'active',
      pausedAt: null,
      billingCycleAnchor: '2026-03-15T12:00:00.000Z',
      currentPeriod: { kind: 'billing', index: 0, start: '2026-03-15T12:00:00.000Z', end: '2026-04-15T12:00:00.000Z' },
    });
    expect(when(given(create(), paid).state, { type: 'ResumeSubscription', subscriptionId: id, now: at('2026-02-10T00:00:00Z') })).toMatchObject({
      ok: false,
      error: { code: 'illegal_subscription_transition', from: 'active' },
    });
  });
});

describe('price changes', () => {
  const change = (price: SubscriptionPrice, now = '2026-02-21T09:00:00.000Z', prorate = true): SubscriptionCommand => ({ type: 'ChangePrice', subscriptionId: id, price, prorate, now: at(now) });

  it('mid-period, same interval: credit for the old price, charge for the new, for the 7 of 28 days left', () => {
    expect(when(given(create(), paid).state, change(usd(3_000)))).toMatchObject({
      ok: true,
      value: [{ type: 'SubscriptionPriceChanged', data: { previousPrice: { amount: 2_000 }, price: { amount: 3_000 }, proration: { credit: 500, charge: 750 }, restartedPeriod: null } }],
    });
  });

  it('another interval restarts the cycle now: credit for the unused time, the new period invoiced in full', () => {
    const decided = when(given(create(), paid).state, change(usd(20_000, 'year')));
    expect(decided).toMatchObject({
      ok: true,
      value: [
        {
          data: {
            proration: { credit: 500, charge: 0 },
            restartedPeriod: { billingCycleAnchor: '2026-02-21T09:00:00.000Z', currentPeriod: { index: 0, end: '2027-02-21T09:00:00.000Z' } },
          },
        },
      ],
    });
  });

  it('during a trial: no proration, the new price applies when billing starts', () => {
    expect(when(given(create(14)).state, change(usd(3_000), '2026-02-05T00:00:00Z'))).toMatchObject({ ok: true, value: [{ data: { proration: null, restartedPeriod: null } }] });
  });

  it('refuses another currency; the same price is no change', () => {
    const state = given(create(), paid).state;
    expect(when(state, change({ ...usd(3_000), currency: toCurrencyCode('EUR') }))).toMatchObject({ ok: false, error: { code: 'subscription_currency_mismatch', currency: 'USD', requested: 'EUR' } });
    expect(when(state, change(usd(2_000)))).toEqual({ ok: true, value: [] });
  });
});

describe('updates', () => {
  it('record only what changed', () => {
    const state = given(create(), paid).state;
    expect(when(state, { type: 'UpdateSubscription', subscriptionId: id, paymentMethod: 'pm_card_visa', metadata: { plan: 'pro' } })).toEqual({ ok: true, value: [] });
    expect(when(state, { type: 'UpdateSubscription', subscriptionId: id, paymentMethod: 'pm_card_mastercard', metadata: { plan: 'pro' } })).toMatchObject({
      ok: true,
      value: [{ type: 'SubscriptionUpdated', data: { paymentMethod: 'pm_card_mastercard' } }],
    });
  });
});

describe('reading subscription and invoice events back', () => {
  it('round-trips what the deciders write and refuses data whose ids would lie', async () => {
    const { upcastSubscriptionEvent } = await import('../../src/domain/subscription/index.js');
    const { events } = given(create(7), next('2026-02-07T09:00:00.000Z'), paid);
    for (const e of events) expect(upcastSubscriptionEvent(e.type, JSON.parse(JSON.stringify(e.data)), 1)).toEqual(e);
    expect(() => upcastSubscriptionEvent('SubscriptionActivated', { subscriptionId: 'pay_x', customerId: 'c', invoiceId: invoice }, 1)).toThrow(/subscription id/);
    expect(() => upcastSubscriptionEvent('SubscriptionActivated', { subscriptionId: id, customerId: 'c', invoiceId: 'in_bad' }, 1)).toThrow(/invoice id/);
    expect(() => upcastSubscriptionEvent('SubscriptionCreated', { ...events[0]!.data, price: { amount: -1, currency: 'USD' } }, 1)).toThrow(/price/);
    expect(() => upcastSubscriptionEvent('SubscriptionActivated', events[2]!.data, 2)).toThrow(/newer/);
  });
});

describe('changes after the period ended but before the billing clock moved it on', () => {
  it('prorate nothing: no time of that period is left', () => {
    const state = given(create(), paid).state;
    const late = at('2026-03-05T00:00:00Z');
    expect(when(state, { type: 'ChangePrice', subscriptionId: id, price: usd(3_000), prorate: true, now: late })).toMatchObject({ ok: true, value: [{ data: { proration: null } }] });
    expect(when(state, { type: 'CancelSubscription', subscriptionId: id, prorate: true, now: late })).toMatchObject({ ok: true, value: [{ data: { proration: null } }] });
  });
});
