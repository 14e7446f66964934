/**
 * Remembers keyed commands (`Idempotency-Key`) so that a retry replays the first answer
 * instead of acting twice. The PostgreSQL adapter lives in src/infrastructure/postgres/idempotency.
 */

/** Idempotency records are per caller: two actors may use the same key for different things. */
export interface IdempotencyScope {
  readonly actor: string;
  readonly key: string;
}

/** The first response to a keyed command, kept so a retry gets exactly the same bytes. */
export interface StoredResponse {
  readonly status: number;
  /** Lower-case names; only the headers that belong to the outcome (content-type, etag, ledger-position, location). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type IdempotencyBegin =
  /**
   * This request owns the key until it completes, releases, or the lease runs out.
   * `firstAttempt` is true when no earlier attempt held this key since `firstSeenAt` (a new
   * key, or an expired one starting afresh); false when this takes over a released or
   * lapsed attempt, which may have written before it stopped.
   */
  | { readonly kind: 'started'; readonly firstSeenAt: Date; readonly lease: string; readonly firstAttempt: boolean }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  /** Another request holds the key; its lease lapses in `leaseLeftMs` (by the store's clock) unless renewed. */
  | { readonly kind: 'in_flight'; readonly leaseLeftMs: number }
  /** The key was first used with another request (method, path, body). */
  | { readonly kind: 'mismatch' }
  /** The record kept changing under the claim (bounded retries exhausted); retry shortly. */
  | { readonly kind: 'contended' };

/** Satisfied by PostgresIdempotencyStore. */
export interface IdempotencyStore {
  /** How often the holder of a started key must renew its lease to keep it while it runs. */
  readonly renewEveryMs: number;
  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyBegin>;
  /** Extends a held lease by its full length; false when it was lost (lapsed and taken over, or finished). */
  renew(scope: IdempotencyScope, lease: string): Promise<boolean>;
  /** Records the response; a no-op when the lease was lost to a retry in the meantime. */
  complete(scope: IdempotencyScope, lease: string, response: StoredResponse): Promise<void>;
  /** Gives the key back without a response (a 5xx), keeping its first-seen time so a retry derives the same ids. */
  release(scope: IdempotencyScope, lease: string): Promise<void>;
}
