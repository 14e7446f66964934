import { TimeoutError, withTimeout } from '../../application/support/timing.js';
import { BILLING_PROJECTION } from '../../projections/billing/billing-projection.js';
import { projectionSchema } from '../../projections/projection.js';
import { DISPUTES_PROJECTION } from '../../projections/disputes/disputes-projection.js';
import type { Queryable } from './change-feed-sql.js';
import { Semaphore } from './limits.js';
import { errorFields, type RealtimeLogger } from './logger.js';

/**
 * The lookup could not be answered (database down, slow or overloaded). Topic checks
 * that need it are answered `unavailable`, not `forbidden`: the client did nothing wrong.
 */
export class OwnerLookupUnavailable extends Error {
  override readonly name = 'OwnerLookupUnavailable';
}

export interface PaymentOwnersTuning {
  /** How long a payment's customer is remembered. A payment never changes customer. Default 60 s. */
  readonly ttlMs: number;
  /**
   * How long "no such payment" is remembered. Short: the payment may be one the client just
   * created, whose row the read model has not written yet. Default 1 s.
   */
  readonly negativeTtlMs: number;
  /** Cached entries; the oldest are dropped first. Default 10,000. */
  readonly maxEntries: number;
  /** Ids per query. Default 200. */
  readonly maxBatch: number;
  /** Lookup queries running at once in this process. Default 2. */
  readonly maxConcurrentQueries: number;
  /** Ids waiting for a query; past this, lookups fail at once as unavailable. Default 5,000. */
  readonly maxPending: number;
  /** A lookup not answered by then fails as unavailable (the query itself runs on). Default 2 s. */
  readonly timeoutMs: number;
}

export const PAYMENT_OWNERS_DEFAULTS: PaymentOwnersTuning = {
  ttlMs: 60_000,
  negativeTtlMs: 1_000,
  maxEntries: 10_000,
  maxBatch: 200,
  maxConcurrentQueries: 2,
  maxPending: 5_000,
  timeoutMs: 2_000,
};

/**
 * Which read model answers: payments (the default), refunds (a refund's owner is its
 * payment's customer), or the billing read model's subscriptions and invoices.
 */
export type OwnedResource = 'payment' | 'refund' | 'subscription' | 'invoice' | 'dispute';

export interface PaymentOwnersOptions extends Partial<PaymentOwnersTuning> {
  readonly db: Queryable;
  /** Default `payment`. */
  readonly resource?: OwnedResource;
  readonly logger: RealtimeLogger;
  /** Milliseconds, for the cache; injectable for tests. */
  readonly now?: () => number;
}

// The live schemas by name, like the queries: a rebuild swaps schemas atomically. Every
// table keeps the owning customer on the row (a refund repeats its payment's customer, an
// invoice its subscription's), and none of them ever changes it, so a cached owner stays true.
const SELECT_OWNERS: Readonly<Record<OwnedResource, string>> = {
  payment: `SELECT id, customer_id FROM ${projectionSchema('payments')}.payments WHERE id = ANY($1::text[])`,
  refund: `SELECT id, customer_id FROM ${projectionSchema('refunds')}.refunds WHERE id = ANY($1::text[])`,
  subscription: `SELECT id, customer_id FROM ${projectionSchema(BILLING_PROJECTION)}.subscriptions WHERE id = ANY($1::text[])`,
  invoice: `SELECT id, customer_id FROM ${projectionSchema(BILLING_PROJECTION)}.invoices WHERE id = ANY($1::text[])`,
  dispute: `SELECT id, customer_id FROM ${projectionSchema(DISPUTES_PROJECTION)}.disputes WHERE id = ANY($1::text[])`,
};

interface CacheEntry {
  readonly owner: string | undefined;
  readonly until: number;
}

interface Pending {
  readonly promise: Promise<string | undefined>;
  resolve(owner: string | undefined): void;
  reject(error: unknown): void;
}

/**
 * Which customer a payment (or, with `resource`, a refund, subscription or invoice) belongs
 * to, from its read model, for the topic policy of customer-scoped principals. Bounded on every side: a short-lived cache of
 * limited size, lookups made in the same turn of the event loop batched into one query,
 * a cap on queries at once and on ids waiting for one, and a deadline per lookup.
 */
export class PaymentOwners {
  readonly #db: Queryable;
  readonly #resource: OwnedResource;
  readonly #logger: RealtimeLogger;
  readonly #now: () => number;
  readonly #tuning: PaymentOwnersTuning;
  readonly #permits: Semaphore;
  readonly #cache = new Map<string, CacheEntry>();
  /** Waiting for the next flush. */
  readonly #queued = new Map<string, Pending>();
  /** Queued or being queried, so concurrent lookups of one id share a query. */
  readonly #inFlight = new Map<string, Pending>();
  #flushScheduled = false;

  constructor(options: PaymentOwnersOptions) {
    const { db, logger, now, resource, ...tuning } = options;
    this.#db = db;
    this.#resource = resource ?? 'payment';
    this.#logger = logger;
    this.#now = now ?? Date.now;
    this.#tuning = { ...PAYMENT_OWNERS_DEFAULTS, ...stripUndefined(tuning) };
    this.#permits = new Semaphore(this.#tuning.maxConcurrentQueries);
  }

  /** Lookups waiting or running (for tests). */
  get pending(): number {
    return this.#inFlight.size;
  }

  /**
   * The payment's customer id, or undefined when the read model has no such payment.
   * Rejects with OwnerLookupUnavailable when that cannot be known now.
   */
  ownerOf(paymentId: string): Promise<string | undefined> {
    const cached = this.#cache.get(paymentId);
    if (cached !== undefined) {
      if (cached.until > this.#now()) return Promise.resolve(cached.owner);
      this.#cache.delete(paymentId);
    }
    let pending = this.#inFlight.get(paymentId);
    if (pending === undefined) {
      if (this.#inFlight.size >= this.#tuning.maxPending) {
        return Promise.reject(new OwnerLookupUnavailable(`too many ${this.#resource} lookups waiting`));
      }
      pending = deferred();
      // Nobody may be listening by the time it settles (the deadline passed).
      pending.promise.catch(() => undefined);
      this.#inFlight.set(paymentId, pending);
      this.#queued.set(paymentId, pending);
      this.#scheduleFlush();
    }
    return withDeadline(pending.promise, this.#tuning.timeoutMs, `${this.#resource} lookup`);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate, not a microtask: a subscribe asks for all its topics before the next
    // turn, so they share one query even if the caller awaits something in between.
    setImmediate(() => {
      this.#flushScheduled = false;
      const ids = [...this.#queued.keys()];
      this.#queued.clear();
      for (let i = 0; i < ids.length; i += this.#tuning.maxBatch) void this.#query(ids.slice(i, i + this.#tuning.maxBatch));
    });
  }

  async #query(ids: readonly string[]): Promise<void> {
    const release = await this.#permits.acquire();
    let owners: Map<string, string>;
    try {
      const { rows } = await this.#db.query<{ id: string; customer_id: string }>(SELECT_OWNERS[this.#resource], [ids]);
      owners = new Map(rows.map((row) => [row.id, row.customer_id]));
    } catch (error) {
      this.#logger.warn({ ids: ids.length, resource: this.#resource, ...errorFields(error) }, `realtime: ${this.#resource} owner lookup failed`);
      for (const id of ids) this.#settle(id, (p) => p.reject(new OwnerLookupUnavailable(`could not look up the ${this.#resource}`)));
      return;
    } finally {
      release();
    }
    const now = this.#now();
    for (const id of ids) {
      const owner = owners.get(id);
      this.#remember(id, { owner, until: now + (owner === undefined ? this.#tuning.negativeTtlMs : this.#tuning.ttlMs) });
      this.#settle(id, (p) => p.resolve(owner));
    }
  }

  #settle(id: string, how: (pending: Pending) => void): void {
    const pending = this.#inFlight.get(id);
    if (pending === undefined) return;
    this.#inFlight.delete(id);
    how(pending);
  }

  #remember(id: string, entry: CacheEntry): void {
    if (entry.until <= this.#now()) return;
    this.#cache.delete(id); // re-inserted at the end: the Map's order is the eviction order
    while (this.#cache.size >= this.#tuning.maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(id, entry);
  }
}

function deferred(): Pending {
  let resolve: (owner: string | undefined) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<string | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  try {
    return await withTimeout(promise, ms, what);
  } catch (error) {
    if (error instanceof TimeoutError) throw new OwnerLookupUnavailable(error.message, { cause: error });
    throw error;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
