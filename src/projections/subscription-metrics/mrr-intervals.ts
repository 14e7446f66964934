import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { ExistingSubscription, SubscriptionEvent, SubscriptionState } from '../../domain/subscription/index.js';
import { evolveSubscription, initialSubscriptionState, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import { countsInMrr, monthlyAmount } from '../../domain/subscription/mrr.js';
import { describeError } from '../logger.js';
import { ProjectionEventError } from '../projection.js';

/*
 * The pure half of the subscription metrics projection: a subscription's history as
 * intervals [validFrom, validTo) during which its status, currency and monthly amount stay
 * the same. Any status is recorded (counts of trialing need them; canceled ones carry the
 * churn mark); which statuses add to MRR is decided when reading (countsInMrr), so the rule
 * can change without a rebuild. Times are the subscription's own clock (the events'
 * `occurredAt`, which for a test-clock subscription is the clock's frozen time).
 */

/** A subscription as the projection keeps it between batches. */
export interface TrackedSubscription {
  readonly state: ExistingSubscription;
  /** The stream revision of the last event folded in. */
  readonly revision: bigint;
  /** The interval still open (validTo null): its sequence number and start. */
  readonly openSeq: number;
  readonly openFrom: string;
}

export interface MrrInterval {
  readonly subscriptionId: string;
  readonly seq: number;
  readonly testClock: string | null;
  readonly currency: string;
  readonly status: string;
  /** amount × periodsPerMonth, unreduced: `numerator / denominator` minor units a month. */
  readonly numerator: string;
  readonly denominator: number;
  readonly validFrom: string;
  validTo: string | null;
  /** Canceled after being counted in MRR (active or past_due just before). */
  readonly churned: boolean;
}

/** Closes a stored interval (one opened by an earlier batch). */
export interface IntervalClose {
  readonly subscriptionId: string;
  readonly seq: number;
  readonly validTo: string;
}

export interface BatchChanges {
  readonly tracked: ReadonlyMap<string, TrackedSubscription>;
  /** Subscriptions whose tracked state changed in this batch. */
  readonly dirty: ReadonlySet<string>;
  readonly inserts: readonly MrrInterval[];
  readonly closes: readonly IntervalClose[];
}

const keyOf = (s: ExistingSubscription): string => {
  const m = monthlyAmount(s.price);
  return `${s.status} ${s.price.currency} ${m.numerator}/${m.denominator}`;
};

function upcast(event: RecordedEvent): SubscriptionEvent {
  try {
    return upcastSubscriptionEvent(event.type, event.data, event.metadata.schemaVersion);
  } catch (error) {
    throw new ProjectionEventError(event, describeError(error));
  }
}

function occurredAt(event: RecordedEvent): string {
  const at = event.metadata.occurredAt;
  const ms = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(ms)) throw new ProjectionEventError(event, `occurredAt is not a timestamp: ${JSON.stringify(at)}`);
  return new Date(ms).toISOString();
}

/**
 * Folds a batch of subscription events (log order) into interval changes. `stored` holds
 * what earlier batches left, by subscription id. An event at or below a subscription's
 * tracked revision was folded in already (a replay) and changes nothing.
 */
export function foldIntervals(stored: ReadonlyMap<string, TrackedSubscription>, recorded: readonly RecordedEvent[]): BatchChanges {
  const tracked = new Map(stored);
  const dirty = new Set<string>();
  const inserts = new Map<string, MrrInterval>();
  const closes = new Map<string, IntervalClose>();
  const open = (s: ExistingSubscription, seq: number, from: string, churned: boolean): void => {
    const m = monthlyAmount(s.price);
    inserts.set(`${s.subscriptionId} ${seq}`, {
      subscriptionId: s.subscriptionId,
      seq,
      testClock: s.testClock,
      currency: s.price.currency,
      status: s.status,
      numerator: m.numerator.toString(),
      denominator: Number(m.denominator),
      validFrom: from,
      validTo: null,
      churned,
    });
  };
  for (const r of recorded) {
    if (!r.streamId.startsWith('subscription-')) continue;
    const event = upcast(r);
    const id = event.data.subscriptionId;
    const before = tracked.get(id);
    if (before && r.revision <= before.revision) continue;
    const state: SubscriptionState = before?.state ?? initialSubscriptionState;
    let after: ExistingSubscription;
    try {
      after = evolveSubscription(state, event);
    } catch (error) {
      throw new ProjectionEventError(r, describeError(error));
    }
    const at = occurredAt(r);
    if (!before) {
      open(after, 0, at, false);
      tracked.set(id, { state: after, revision: r.revision, openSeq: 0, openFrom: at });
    } else if (keyOf(before.state) !== keyOf(after)) {
      // A subscription's clock never runs backwards (test clocks only advance); should two
      // events disagree anyway, the interval is empty rather than negative.
      const from = at < before.openFrom ? before.openFrom : at;
      const inBatch = inserts.get(`${id} ${before.openSeq}`);
      if (inBatch) inBatch.validTo = from;
      else closes.set(`${id} ${before.openSeq}`, { subscriptionId: id, seq: before.openSeq, validTo: from });
      const seq = before.openSeq + 1;
      open(after, seq, from, after.status === 'canceled' && countsInMrr(before.state.status));
      tracked.set(id, { state: after, revision: r.revision, openSeq: seq, openFrom: from });
    } else {
      tracked.set(id, { ...before, state: after, revision: r.revision });
    }
    dirty.add(id);
  }
  return { tracked, dirty, inserts: [...inserts.values()], closes: [...closes.values()] };
}
