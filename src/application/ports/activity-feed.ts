import type { BillingReason, InvoiceStatus } from '../../domain/invoice/index.js';
import type { SubscriptionStatus } from '../../domain/subscription/index.js';
import type { Position } from './position.js';

/**
 * The per-customer activity timeline (issue 7, "Activity feeds"): one entry per
 * customer-visible fact, newest first. Two adapters honour this port, MongoDB
 * (src/infrastructure/mongo) and PostgreSQL JSONB (src/infrastructure/postgres/activity),
 * and one contract suite (test/activity-feed/contract.ts) proves both.
 *
 * The store is written by one loop (src/projections/activity/activity-feed-runner.ts) that
 * cannot share a transaction with it (MongoDB has none to share), so the port is shaped for
 * "write, then checkpoint": `insert` is insert-only and keyed by the event id (a replayed
 * entry changes nothing), and the checkpoint moves afterwards with `advance`. A crash between
 * the two replays the batch into entries that are already there.
 *
 * Rebuilds write a fresh *generation* (a collection, or a set of rows) beside the live one
 * and switch the live pointer when it has caught up (docs/architecture.md, "Projections":
 * rebuild into a shadow, then switch).
 */

export const ACTIVITY_TYPES = [
  'payment.created',
  'payment.captured',
  'payment.canceled',
  'payment.failed',
  'refund.requested',
  'refund.succeeded',
  'refund.failed',
  'subscription.created',
  'subscription.renewed',
  'subscription.activated',
  'subscription.past_due',
  'subscription.unpaid',
  'subscription.expired',
  'subscription.canceled',
  'subscription.paused',
  'subscription.resumed',
  'subscription.price_changed',
  'subscription.updated',
  'invoice.issued',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.uncollectible',
  'invoice.voided',
  'dispute.opened',
  'dispute.updated',
  'dispute.won',
  'dispute.lost',
  'dispute.closed',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** What an entry's `status` may say: a subscription's statuses, then an invoice's (`draft` is never held at rest). */
export const ACTIVITY_STATUSES = [
  'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused',
  'open', 'paid', 'uncollectible', 'void',
] as const satisfies readonly (SubscriptionStatus | InvoiceStatus)[];
export type ActivityStatus = (typeof ACTIVITY_STATUSES)[number];
const everyStatusListed: [Exclude<SubscriptionStatus | Exclude<InvoiceStatus, 'draft'>, ActivityStatus>] extends [never] ? true : never = true;
void everyStatusListed;

export const ACTIVITY_BILLING_REASONS = ['subscription_create', 'subscription_cycle', 'subscription_update', 'subscription_resume'] as const satisfies readonly BillingReason[];
// Every billing reason listed: a new one must be added above (and so to the API's schema).
const everyReasonListed: [Exclude<BillingReason, (typeof ACTIVITY_BILLING_REASONS)[number]>] extends [never] ? true : never = true;
void everyReasonListed;

/** One timeline entry, as the API shows it. */
export interface ActivityEntry {
  /** The id of the event that caused it: the natural idempotency key. */
  readonly id: string;
  readonly type: ActivityType;
  /** ISO 8601, from the event's metadata. */
  readonly occurredAt: string;
  /** The event's log position, `<commit>.<prepare>`. */
  readonly position: string;
  readonly paymentId?: string;
  readonly refundId?: string;
  readonly subscriptionId?: string;
  readonly invoiceId?: string;
  readonly disputeId?: string;
  /**
   * Integer minor units, with `currency`: always on payment and refund entries; on
   * subscription and invoice entries when the fact names an amount (a price, an invoice's
   * total, an amount paid, a credit), absent when it names none (a pause, a voided invoice).
   */
  readonly amount?: number;
  readonly currency?: string;
  /** The subscription's or invoice's status after the fact, when the fact alone decides it. */
  readonly status?: ActivityStatus;
  /** An issued invoice's reason (Stripe's `billing_reason`). */
  readonly billingReason?: BillingReason;
  /** The billing period the fact is about (ISO 8601): an invoice's, or the one a subscription entered. */
  readonly periodStart?: string;
  readonly periodEnd?: string;
  /** A short human sentence, e.g. "Payment of 12.50 USD authorized". */
  readonly summary: string;
}

/** An entry and whose timeline it is on. */
export interface ActivityRecord {
  readonly customerId: string;
  readonly entry: ActivityEntry;
}

export interface ActivityFeedState {
  /** The generation queries read. */
  readonly live: number;
  /** Every event at or before this position is in the live generation (START when empty). */
  readonly checkpoint: Position;
}

export interface ActivityPageRequest {
  readonly customerId: string;
  /** 1..ACTIVITY_PAGE_MAX + 1 (the API asks for one more than it shows, to know whether there is a next page). */
  readonly limit: number;
  /** Only entries older (lower position) than this one: the last entry of the previous page. */
  readonly beforePosition?: Position | undefined;
}

/** Largest page a store is asked for. */
export const ACTIVITY_PAGE_MAX = 100;

export interface ActivityFeedStore {
  /** Creates collections/tables and indexes if missing. Idempotent; run at start. */
  prepare(): Promise<void>;
  state(): Promise<ActivityFeedState>;
  /** Checkpoint of one generation (the live one or a rebuild's); undefined when it does not exist. */
  checkpointOf(generation: number): Promise<Position | undefined>;
  /** Insert-only, keyed by entry id: an entry already present is left as it is (not an error). */
  insert(generation: number, records: readonly ActivityRecord[]): Promise<void>;
  /**
   * Moves `generation`'s checkpoint from `from` to `to`; false (nothing written) when its
   * checkpoint is no longer `from` or the generation was retired, so a runner that lost a
   * race or a switch re-reads the state instead of overwriting.
   */
  advance(generation: number, from: Position, to: Position): Promise<boolean>;
  /** Newest first, at most `limit`, of the live generation. */
  page(request: ActivityPageRequest): Promise<ActivityEntry[]>;

  // ---- rebuild -----------------------------------------------------------------------
  /** Drops retired generations, creates the next one empty (checkpoint START) and returns its number. */
  createGeneration(): Promise<number>;
  /** Makes `generation` live and retires the previous one (its checkpoint is removed). */
  switchLive(generation: number): Promise<void>;

  close(): Promise<void>;
}

/** What the HTTP API reads. */
export type ActivityQueries = Pick<ActivityFeedStore, 'page' | 'state'>;
