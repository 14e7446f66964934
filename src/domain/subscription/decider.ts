import { periodBoundary } from '../billing/recurrence.js';
import type { Recurrence } from '../billing/recurrence.js';
import { prorationForChange } from '../billing/proration.js';
import type { InvoiceId, SubscriptionId } from '../ids.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { SubscriptionError } from './errors.js';
import { SubscriptionEventNotApplicable } from './errors.js';
import type { CurrentPeriod, SubscriptionEvent, SubscriptionPrice, SubscriptionReference, SubscriptionUpdated } from './events.js';
import type { ExistingSubscription, SubscriptionState, SubscriptionStatus } from './state.js';
import { INCOMPLETE_EXPIRY_MS, initialSubscriptionState, isTerminal } from './state.js';

/*
 * The subscription's decider (docs/architecture.md, "Subscriptions"). Time is always the
 * command's `now` (the subscription's clock: real or test), never read here. Commands the
 * billing clock and the invoice process manager issue are idempotent by state: asked twice,
 * the second finds nothing left to do and decides no events, so two schedulers racing on the
 * same subscription (ordered by the stream's expected revision) write once.
 */

export const MAX_TRIAL_DAYS = 730;
const DAY_MS = 86_400_000;

export interface CreateSubscription {
  readonly type: 'CreateSubscription';
  readonly subscriptionId: SubscriptionId;
  readonly customerId: string;
  readonly price: SubscriptionPrice;
  readonly paymentMethod: string;
  readonly providerCustomerId?: string | null | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly testClock: string | null;
  readonly trialDays: number | null;
  readonly now: Date;
}

/** The billing clock, at or after the current period's end. */
export interface StartNextPeriod {
  readonly type: 'StartNextPeriod';
  readonly subscriptionId: SubscriptionId;
  readonly now: Date;
}

export interface RecordInvoicePaid {
  readonly type: 'RecordInvoicePaid';
  readonly subscriptionId: SubscriptionId;
  readonly invoiceId: InvoiceId;
}

export interface RecordInvoicePaymentFailed {
  readonly type: 'RecordInvoicePaymentFailed';
  readonly subscriptionId: SubscriptionId;
  readonly invoiceId: InvoiceId;
}

/** The last dunning retry failed: cancel, or keep the subscription as `unpaid` (configuration). */
export interface ExhaustDunning {
  readonly type: 'ExhaustDunning';
  readonly subscriptionId: SubscriptionId;
  readonly invoiceId: InvoiceId;
  readonly then: 'cancel' | 'mark_unpaid';
  readonly now: Date;
}

export interface ExpireIncomplete {
  readonly type: 'ExpireIncomplete';
  readonly subscriptionId: SubscriptionId;
  readonly now: Date;
}

export interface CancelSubscription {
  readonly type: 'CancelSubscription';
  readonly subscriptionId: SubscriptionId;
  /** Credit the unused part of a paid billing period. */
  readonly prorate: boolean;
  readonly now: Date;
}

export interface PauseSubscription {
  readonly type: 'PauseSubscription';
  readonly subscriptionId: SubscriptionId;
  readonly now: Date;
}

export interface ResumeSubscription {
  readonly type: 'ResumeSubscription';
  readonly subscriptionId: SubscriptionId;
  readonly now: Date;
}

export interface ChangePrice {
  readonly type: 'ChangePrice';
  readonly subscriptionId: SubscriptionId;
  readonly price: SubscriptionPrice;
  readonly prorate: boolean;
  readonly now: Date;
}

export interface UpdateSubscription {
  readonly type: 'UpdateSubscription';
  readonly subscriptionId: SubscriptionId;
  readonly paymentMethod?: string | undefined;
  /** null removes it. */
  readonly providerCustomerId?: string | null | undefined;
  readonly cancelAtPeriodEnd?: boolean | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export type SubscriptionCommand =
  | CreateSubscription
  | StartNextPeriod
  | RecordInvoicePaid
  | RecordInvoicePaymentFailed
  | ExhaustDunning
  | ExpireIncomplete
  | CancelSubscription
  | PauseSubscription
  | ResumeSubscription
  | ChangePrice
  | UpdateSubscription;

const recurrenceOf = (price: SubscriptionPrice): Recurrence => ({ interval: price.interval, intervalCount: price.intervalCount });

/** Billing period `index` of a subscription anchored at `anchor`. */
export function billingPeriod(anchor: string, price: SubscriptionPrice, index: number): CurrentPeriod & { readonly kind: 'billing' } {
  const at = new Date(anchor);
  const r = recurrenceOf(price);
  return { kind: 'billing', index, start: periodBoundary(at, r, index).toISOString(), end: periodBoundary(at, r, index + 1).toISOString() };
}

const inside = (p: CurrentPeriod, at: Date): boolean => Date.parse(p.start) <= at.getTime() && at.getTime() < Date.parse(p.end);

const referenceOf = (s: SubscriptionReference): SubscriptionReference => ({ subscriptionId: s.subscriptionId, customerId: s.customerId });

function existing(state: SubscriptionState, event: SubscriptionEvent): ExistingSubscription {
  if (!state.exists) throw new SubscriptionEventNotApplicable(event, 'not_created', 'the subscription was never created');
  if (state.subscriptionId !== event.data.subscriptionId) throw new SubscriptionEventNotApplicable(event, 'other_subscription', `the stream is ${state.subscriptionId}`);
  if (isTerminal(state.status)) throw new SubscriptionEventNotApplicable(event, 'ended', `the subscription is ${state.status}`);
  return state;
}

/** The one fold of a subscription: handlers, the billing clock, the process manager and the read models use it. */
export function evolveSubscription(state: SubscriptionState, event: SubscriptionEvent): ExistingSubscription {
  switch (event.type) {
    case 'SubscriptionCreated': {
      if (state.exists) throw new SubscriptionEventNotApplicable(event, 'already_created', 'the subscription already exists');
      const d = event.data;
      return {
        exists: true,
        ...referenceOf(d),
        status: d.status,
        price: d.price,
        paymentMethod: d.paymentMethod,
        // Only when set: a subscription without one folds as it always did.
        ...(d.providerCustomerId === undefined ? {} : { providerCustomerId: d.providerCustomerId }),
        metadata: d.metadata,
        testClock: d.testClock,
        createdAt: d.createdAt,
        trialEnd: d.trialEnd,
        billingCycleAnchor: d.billingCycleAnchor,
        currentPeriod: d.currentPeriod,
        cancelAtPeriodEnd: false,
        canceledAt: null,
        pausedAt: null,
      };
    }
    case 'SubscriptionPeriodStarted':
      return { ...existing(state, event), currentPeriod: event.data.currentPeriod };
    case 'SubscriptionActivated':
      return { ...existing(state, event), status: 'active' };
    case 'SubscriptionPastDue':
      return { ...existing(state, event), status: 'past_due' };
    case 'SubscriptionMarkedUnpaid':
      return { ...existing(state, event), status: 'unpaid' };
    case 'SubscriptionIncompleteExpired':
      return { ...existing(state, event), status: 'incomplete_expired' };
    case 'SubscriptionCanceled':
      return { ...existing(state, event), status: 'canceled', canceledAt: event.data.at };
    case 'SubscriptionPaused':
      return { ...existing(state, event), status: 'paused', pausedAt: event.data.at };
    case 'SubscriptionResumed':
      return { ...existing(state, event), status: 'active', pausedAt: null, billingCycleAnchor: event.data.billingCycleAnchor, currentPeriod: event.data.currentPeriod };
    case 'SubscriptionPriceChanged': {
      const s = existing(state, event);
      const restart = event.data.restartedPeriod;
      return { ...s, price: event.data.price, ...(restart ? { billingCycleAnchor: restart.billingCycleAnchor, currentPeriod: restart.currentPeriod } : {}) };
    }
    case 'SubscriptionUpdated': {
      const s = existing(state, event);
      const d = event.data;
      return {
        ...s,
        ...(d.paymentMethod !== undefined ? { paymentMethod: d.paymentMethod } : {}),
        ...(d.providerCustomerId !== undefined ? { providerCustomerId: d.providerCustomerId } : {}),
        ...(d.cancelAtPeriodEnd !== undefined ? { cancelAtPeriodEnd: d.cancelAtPeriodEnd } : {}),
        ...(d.metadata !== undefined ? { metadata: d.metadata } : {}),
      };
    }
  }
}

export const foldSubscription = (events: readonly SubscriptionEvent[], from: SubscriptionState = initialSubscriptionState): SubscriptionState =>
  events.reduce<SubscriptionState>(evolveSubscription, from);

type Decision = Result<SubscriptionEvent[], SubscriptionError>;

const illegal = (s: ExistingSubscription, command: string): Decision =>
  err({ code: 'illegal_subscription_transition', subscriptionId: s.subscriptionId, from: s.status, command });

const within = (statuses: readonly SubscriptionStatus[], s: ExistingSubscription): boolean => statuses.includes(s.status);

function create(cmd: CreateSubscription): Decision {
  const createdAt = cmd.now.toISOString();
  if (cmd.trialDays !== null && (!Number.isInteger(cmd.trialDays) || cmd.trialDays < 1 || cmd.trialDays > MAX_TRIAL_DAYS)) {
    return err({ code: 'invalid_trial', message: `trialDays must be an integer from 1 to ${MAX_TRIAL_DAYS}` });
  }
  const trialEnd = cmd.trialDays === null ? null : new Date(cmd.now.getTime() + cmd.trialDays * DAY_MS).toISOString();
  const anchor = trialEnd ?? createdAt;
  return ok([
    {
      type: 'SubscriptionCreated',
      data: {
        subscriptionId: cmd.subscriptionId,
        customerId: cmd.customerId,
        price: cmd.price,
        paymentMethod: cmd.paymentMethod,
        ...(cmd.providerCustomerId ? { providerCustomerId: cmd.providerCustomerId } : {}),
        metadata: cmd.metadata,
        testClock: cmd.testClock,
        createdAt,
        status: trialEnd === null ? 'incomplete' : 'trialing',
        trialEnd,
        billingCycleAnchor: anchor,
        currentPeriod: trialEnd === null ? billingPeriod(anchor, cmd.price, 0) : { kind: 'trial', start: createdAt, end: trialEnd },
      },
    },
  ]);
}

function startNextPeriod(s: ExistingSubscription, cmd: StartNextPeriod): Decision {
  // Incomplete ones wait for their first invoice (or expire); paused ones issue nothing.
  if (!within(['trialing', 'active', 'past_due', 'unpaid'], s)) return illegal(s, cmd.type);
  if (cmd.now.getTime() < Date.parse(s.currentPeriod.end)) {
    return err({ code: 'subscription_not_due', subscriptionId: s.subscriptionId, dueAt: s.currentPeriod.end });
  }
  if (s.cancelAtPeriodEnd) {
    return ok([{ type: 'SubscriptionCanceled', data: { ...referenceOf(s), at: s.currentPeriod.end, cause: 'cancel_at_period_end', proration: null } }]);
  }
  const index = s.currentPeriod.kind === 'trial' ? 0 : s.currentPeriod.index + 1;
  return ok([{ type: 'SubscriptionPeriodStarted', data: { ...referenceOf(s), currentPeriod: billingPeriod(s.billingCycleAnchor, s.price, index) } }]);
}

function cancel(s: ExistingSubscription, cmd: CancelSubscription): Decision {
  const p = s.currentPeriod;
  // Only a paid billing period has unused time worth money: not a trial, not an unpaid period.
  const proration =
    cmd.prorate && p.kind === 'billing' && s.status === 'active' && inside(p, cmd.now)
      ? prorationForChange(s.price.amount, 0, { index: p.index, start: new Date(p.start), end: new Date(p.end) }, cmd.now)
      : undefined;
  return ok([
    {
      type: 'SubscriptionCanceled',
      data: {
        ...referenceOf(s),
        at: cmd.now.toISOString(),
        cause: 'requested',
        proration: proration ? { credit: proration.credit, currency: s.price.currency, remainingSeconds: proration.remainingSeconds, periodSeconds: proration.periodSeconds } : null,
      },
    },
  ]);
}

function changePrice(s: ExistingSubscription, cmd: ChangePrice): Decision {
  if (!within(['trialing', 'active', 'past_due'], s)) return illegal(s, cmd.type);
  if (cmd.price.currency !== s.price.currency) {
    return err({ code: 'subscription_currency_mismatch', subscriptionId: s.subscriptionId, currency: s.price.currency, requested: cmd.price.currency });
  }
  const old = s.price;
  if (old.amount === cmd.price.amount && old.interval === cmd.price.interval && old.intervalCount === cmd.price.intervalCount) return ok([]);
  const at = cmd.now.toISOString();
  const p = s.currentPeriod;
  const base = { ...referenceOf(s), at, previousPrice: old, price: cmd.price };
  if (p.kind === 'trial') {
    // Billing has not started: the new price simply applies from the trial's end.
    return ok([{ type: 'SubscriptionPriceChanged', data: { ...base, proration: null, restartedPeriod: null } }]);
  }
  // Past the period's end (the billing clock has not moved it on yet) nothing of it is left to prorate.
  const prorated = cmd.prorate && inside(p, cmd.now) ? prorationForChange(old.amount, cmd.price.amount, { index: p.index, start: new Date(p.start), end: new Date(p.end) }, cmd.now) : undefined;
  const sameCycle = old.interval === cmd.price.interval && old.intervalCount === cmd.price.intervalCount;
  if (sameCycle) {
    return ok([{ type: 'SubscriptionPriceChanged', data: { ...base, proration: prorated ? { ...prorated } : null, restartedPeriod: null } }]);
  }
  // Another interval: as Stripe, the cycle restarts now and the new period is invoiced in full;
  // the proration is then only the credit for the old price's unused time.
  return ok([
    {
      type: 'SubscriptionPriceChanged',
      data: {
        ...base,
        proration: prorated ? { credit: prorated.credit, charge: 0, remainingSeconds: prorated.remainingSeconds, periodSeconds: prorated.periodSeconds } : null,
        restartedPeriod: { billingCycleAnchor: at, currentPeriod: billingPeriod(at, cmd.price, 0) },
      },
    },
  ]);
}

function update(s: ExistingSubscription, cmd: UpdateSubscription): Decision {
  const changed: Omit<SubscriptionUpdated['data'], keyof SubscriptionReference> = {
    ...(cmd.paymentMethod !== undefined && cmd.paymentMethod !== s.paymentMethod ? { paymentMethod: cmd.paymentMethod } : {}),
    ...(cmd.providerCustomerId !== undefined && cmd.providerCustomerId !== (s.providerCustomerId ?? null) ? { providerCustomerId: cmd.providerCustomerId } : {}),
    ...(cmd.cancelAtPeriodEnd !== undefined && cmd.cancelAtPeriodEnd !== s.cancelAtPeriodEnd ? { cancelAtPeriodEnd: cmd.cancelAtPeriodEnd } : {}),
    ...(cmd.metadata !== undefined && JSON.stringify(cmd.metadata) !== JSON.stringify(s.metadata) ? { metadata: cmd.metadata } : {}),
  };
  if (Object.keys(changed).length === 0) return ok([]);
  return ok([{ type: 'SubscriptionUpdated', data: { ...referenceOf(s), ...changed } }]);
}

/**
 * Decides a subscription command. Reports from invoices and the clock that find nothing to
 * change (already active, already past due, already expired) decide no events; commands a
 * user sends against an ended subscription are refused.
 */
export function decideSubscription(state: SubscriptionState, cmd: SubscriptionCommand): Decision {
  if (cmd.type === 'CreateSubscription') {
    if (state.exists) return err({ code: 'subscription_already_exists', subscriptionId: state.subscriptionId });
    return create(cmd);
  }
  if (!state.exists) return err({ code: 'subscription_not_found', subscriptionId: cmd.subscriptionId });
  const s = state;
  const ref = referenceOf(s);
  const ended = isTerminal(s.status);
  switch (cmd.type) {
    case 'RecordInvoicePaid':
      // The payment stands; an ended or paused subscription stays as it is.
      if (ended || within(['active', 'paused'], s)) return ok([]);
      return ok([{ type: 'SubscriptionActivated', data: { ...ref, invoiceId: cmd.invoiceId } }]);
    case 'RecordInvoicePaymentFailed':
      // A first invoice that fails leaves it incomplete (it expires after 23 h); dunning is for renewals.
      if (!within(['trialing', 'active'], s)) return ok([]);
      return ok([{ type: 'SubscriptionPastDue', data: { ...ref, invoiceId: cmd.invoiceId } }]);
    case 'ExhaustDunning':
      if (s.status !== 'past_due') return ok([]);
      return ok([
        cmd.then === 'cancel'
          ? { type: 'SubscriptionCanceled', data: { ...ref, at: cmd.now.toISOString(), cause: 'dunning_exhausted', proration: null } }
          : { type: 'SubscriptionMarkedUnpaid', data: { ...ref, invoiceId: cmd.invoiceId } },
      ]);
    case 'ExpireIncomplete': {
      if (s.status !== 'incomplete') return ok([]);
      const dueAt = Date.parse(s.createdAt) + INCOMPLETE_EXPIRY_MS;
      if (cmd.now.getTime() < dueAt) return err({ code: 'subscription_not_due', subscriptionId: s.subscriptionId, dueAt: new Date(dueAt).toISOString() });
      return ok([{ type: 'SubscriptionIncompleteExpired', data: { ...ref, at: cmd.now.toISOString() } }]);
    }
    default:
      break;
  }
  if (ended) return err({ code: 'subscription_ended', subscriptionId: s.subscriptionId, status: s.status });
  switch (cmd.type) {
    case 'StartNextPeriod':
      return startNextPeriod(s, cmd);
    case 'CancelSubscription':
      return cancel(s, cmd);
    case 'PauseSubscription':
      if (s.status === 'paused') return ok([]);
      if (!within(['trialing', 'active', 'past_due'], s)) return illegal(s, cmd.type);
      return ok([{ type: 'SubscriptionPaused', data: { ...ref, at: cmd.now.toISOString() } }]);
    case 'ResumeSubscription': {
      if (s.status !== 'paused') return illegal(s, cmd.type);
      const at = cmd.now.toISOString();
      return ok([{ type: 'SubscriptionResumed', data: { ...ref, at, billingCycleAnchor: at, currentPeriod: billingPeriod(at, s.price, 0) } }]);
    }
    case 'ChangePrice':
      return changePrice(s, cmd);
    case 'UpdateSubscription':
      return update(s, cmd);
  }
}
