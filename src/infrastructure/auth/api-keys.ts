import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AuditLog } from '../../application/audit/audit-log.js';
import type { AuthenticationError, Principal, Scope } from '../../application/auth/principal.js';
import { isScope } from '../../application/auth/principal.js';
import { isCustomerId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import { inTransaction } from '../postgres/projections/transaction.js';
import { ApiKeyCache } from './api-key-cache.js';
import type { SecretHasher } from './api-key-format.js';
import { hashesEqual, isApiKeyId, newApiKey, parseApiKey } from './api-key-format.js';
import { INSERT_KEY, LIST_ACTIVE_KEYS, LIST_KEYS, LOOKUP_KEY, REVOCATION_OF, REVOKE_KEY, TOUCH_KEY } from './api-keys-sql.js';
import { checkGrant } from './jwt-policy.js';

/** A key as `keys list` shows it: never the secret, never its hash. */
export interface ApiKeySummary {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly customerId: string | null;
  readonly createdAt: Date;
  readonly createdBy: string;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
  readonly lastUsedAt: Date | null;
}

/** The answer to create: the only time the plaintext key exists outside its holder. */
export interface CreatedApiKey {
  readonly id: string;
  /** `lk_<id>_<secret>`. Shown once; only its hash is stored. */
  readonly key: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly customerId: string | null;
  readonly createdAt: Date;
  readonly createdBy: string;
}

export interface CreateApiKeyRequest {
  readonly scopes: readonly string[];
  readonly customerId?: string | null | undefined;
  readonly name?: string | undefined;
  /** Who creates it; recorded on the row and as the audit event's actor. */
  readonly actor: string;
  readonly correlationId?: string | undefined;
}

export type CreateApiKeyError = { readonly code: 'invalid_request'; readonly message: string };

export type RevokeApiKeyError =
  | { readonly code: 'not_found'; readonly id: string }
  | { readonly code: 'already_revoked'; readonly id: string; readonly revokedAt: Date; readonly revokedBy: string };

/**
 * Every fresh key id collided with an existing one: with 64 random bits per id that is a
 * broken random source or a corrupted table, a bug to surface, never an expected outcome.
 */
export class ApiKeyIdCollisions extends Error {
  override readonly name = 'ApiKeyIdCollisions';

  constructor(attempts: number, cause: unknown) {
    super(`${attempts} new API key ids in a row already existed`, { cause });
  }
}

export interface ApiKeysLogger {
  warn(object: Record<string, unknown>, message: string): void;
}

export interface ApiKeysOptions {
  readonly hasher: SecretHasher;
  /**
   * How long a verified key is trusted without asking the database again. Also the bound
   * on how long a revocation takes to reach other instances (this one forgets the key at
   * once). Default 30 s.
   */
  readonly cacheTtlMs?: number;
  /** Default 10,000 keys. */
  readonly cacheMaxEntries?: number;
  /** `last_used_at` is written at most this often per key. Default 60 s. */
  readonly touchIntervalMs?: number;
  readonly logger?: ApiKeysLogger;
}

interface LookupRow {
  readonly id: string;
  readonly secret_hash: Buffer;
  readonly pepper_id: string | null;
  readonly scopes: string[];
  readonly customer_id: string | null;
  readonly revoked_at: Date | null;
}

interface SummaryRow {
  readonly id: string;
  readonly name: string;
  readonly scopes: string[];
  readonly customer_id: string | null;
  readonly created_at: Date;
  readonly created_by: string;
  readonly revoked_at: Date | null;
  readonly revoked_by: string | null;
  readonly last_used_at: Date | null;
}

/** What the cache remembers of a key: its hash (not the secret) and what it grants. */
interface KnownKey {
  readonly hash: Buffer;
  readonly principal: Principal | null;
  readonly revoked: boolean;
}

type AuthOutcome = Result<Principal, AuthenticationError>;

const DEFAULT_CACHE_TTL_MS = 30_000;
const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
const DEFAULT_TOUCH_INTERVAL_MS = 60_000;
const NAME = /^[^\p{Cc}]{0,200}$/u;
const UNIQUE_VIOLATION = '23505';
/** Fresh ids tried before a collision streak is treated as the bug it must be. */
const MAX_CREATE_ATTEMPTS = 3;
// Any 32 bytes: hashed against when the id is unknown, so that answer takes as long as a wrong secret.
const NO_HASH = Buffer.alloc(32);

const invalidKey = (): AuthOutcome => err({ code: 'invalid_credentials', message: 'invalid API key' });

/**
 * API keys in PostgreSQL: created (and shown once), listed, revoked, and verified on every
 * request. Creation and revocation are audited, and never happen unaudited: the row
 * changes in a transaction that commits only after the audit event was appended. If the
 * append fails, nothing changed and the caller gets the error. If the commit fails after
 * the append, the log holds an event for a change that did not happen; for a creation the
 * key was never shown, so nothing usable exists; a revocation is retried by the operator
 * and its event id is deterministic, so the retry is recognised as the same write.
 *
 * The transaction holds a pooled connection while the event store appends on another one
 * (PostgreSQL) or elsewhere (EventStoreDB): the pool needs two connections to spare.
 */
export class ApiKeys {
  readonly #cache: ApiKeyCache<KnownKey>;
  readonly #touchedAt = new Map<string, number>();
  readonly #pendingTouches = new Set<Promise<void>>();
  readonly #hasher: SecretHasher;
  readonly #touchIntervalMs: number;
  readonly #maxEntries: number;
  readonly #logger: ApiKeysLogger | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: AuditLog,
    options: ApiKeysOptions,
  ) {
    this.#hasher = options.hasher;
    this.#maxEntries = options.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
    this.#cache = new ApiKeyCache(options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, this.#maxEntries);
    this.#touchIntervalMs = options.touchIntervalMs ?? DEFAULT_TOUCH_INTERVAL_MS;
    this.#logger = options.logger;
  }

  async create(request: CreateApiKeyRequest): Promise<Result<CreatedApiKey, CreateApiKeyError>> {
    const checked = validateCreate(request);
    if (!checked.ok) return checked;
    const { scopes, customerId, name } = checked.value;
    const correlationId = request.correlationId ?? randomUUID();
    // 64 random bits make a collision all but impossible; a retry makes it harmless.
    let collision: unknown;
    for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
      const key = newApiKey();
      try {
        const createdAt = await inTransaction(this.pool, async (client) => {
          const { rows } = await client.query<{ created_at: Date }>(INSERT_KEY, [
            key.id, this.#hasher.hash(key.secret), this.#hasher.pepperId, scopes, customerId, name, request.actor,
          ]);
          await this.audit.record({ type: 'ApiKeyCreated', data: { keyId: key.id, scopes, customerId, name } }, request.actor, correlationId);
          return { commit: true, value: (rows[0] as { created_at: Date }).created_at };
        });
        return ok({ id: key.id, key: key.plaintext, name, scopes, customerId, createdAt, createdBy: request.actor });
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
        collision = error;
      }
    }
    throw new ApiKeyIdCollisions(MAX_CREATE_ATTEMPTS, collision);
  }

  /** Every key, oldest first, with its state; no hash, no secret. */
  async list(options: { readonly includeRevoked?: boolean } = {}): Promise<ApiKeySummary[]> {
    const { rows } = await this.pool.query<SummaryRow>(options.includeRevoked === false ? LIST_ACTIVE_KEYS : LIST_KEYS);
    return rows.map(toSummary);
  }

  async revoke(id: string, actor: string, correlationId: string = randomUUID()): Promise<Result<ApiKeySummary, RevokeApiKeyError>> {
    if (!isApiKeyId(id)) return err({ code: 'not_found', id });
    const outcome = await inTransaction(this.pool, async (client): Promise<{ commit: boolean; value: Result<ApiKeySummary, RevokeApiKeyError> }> => {
      const revoked = await client.query<SummaryRow>(REVOKE_KEY, [id, actor]);
      const row = revoked.rows[0];
      if (row === undefined) {
        const { rows } = await client.query<{ revoked_at: Date; revoked_by: string }>(REVOCATION_OF, [id]);
        const existing = rows[0];
        return {
          commit: false,
          value: existing === undefined
            ? err({ code: 'not_found', id })
            : err({ code: 'already_revoked', id, revokedAt: existing.revoked_at, revokedBy: existing.revoked_by }),
        };
      }
      await this.audit.record({ type: 'ApiKeyRevoked', data: { keyId: id } }, actor, correlationId, { idempotencySeed: `ApiKeyRevoked:${id}` });
      return { commit: true, value: ok(toSummary(row)) };
    });
    // This instance stops accepting the key now; others when their cache entry expires.
    this.#cache.delete(id);
    return outcome;
  }

  /** Verifies `lk_<id>_<secret>`; `now` also drives the cache and the last-used stamp. */
  async authenticate(token: string, now: Date): Promise<AuthOutcome> {
    const parts = parseApiKey(token);
    if (parts === null) return err({ code: 'malformed_credentials', message: 'not a well-formed API key' });
    const nowMs = now.getTime();
    const presented = this.#hasher.hash(parts.secret);
    const known = this.#cache.get(parts.id, nowMs) ?? (await this.#load(parts.id, nowMs));
    if (known === null) {
      hashesEqual(presented, NO_HASH);
      return invalidKey();
    }
    if (!hashesEqual(presented, known.hash)) return invalidKey();
    // Revealed only to whoever holds the secret: "revoked" is then worth telling.
    if (known.revoked) return err({ code: 'revoked_credentials' });
    if (known.principal === null) return invalidKey();
    this.#touch(parts.id, now);
    return ok(known.principal);
  }

  /** Waits for last-used writes in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pendingTouches]);
  }

  async #load(id: string, nowMs: number): Promise<KnownKey | null> {
    const { rows } = await this.pool.query<LookupRow>(LOOKUP_KEY, [id]);
    const row = rows[0];
    if (row === undefined) return null;
    if (row.pepper_id !== this.#hasher.pepperId) {
      // Not cached: fixing the configuration should not wait for an expiry.
      this.#logger?.warn({ keyId: id }, 'API key was stored under another AUTH_API_KEY_PEPPER; it cannot be verified with the current one');
      return null;
    }
    const known: KnownKey = { hash: row.secret_hash, revoked: row.revoked_at !== null, principal: principalOf(row) };
    this.#cache.set(id, known, nowMs);
    return known;
  }

  #touch(id: string, now: Date): void {
    const nowMs = now.getTime();
    const last = this.#touchedAt.get(id);
    if (last !== undefined && nowMs - last < this.#touchIntervalMs && nowMs >= last) return;
    this.#touchedAt.delete(id);
    this.#touchedAt.set(id, nowMs);
    if (this.#touchedAt.size > this.#maxEntries) {
      const oldest = this.#touchedAt.keys().next();
      if (!oldest.done) this.#touchedAt.delete(oldest.value);
    }
    // Off the request's path: a lost stamp costs accuracy of last_used_at, nothing else.
    const pending = this.pool.query(TOUCH_KEY, [id, now, this.#touchIntervalMs / 1_000]).then(
      () => undefined,
      (error: unknown) => this.#logger?.warn({ keyId: id, err: error }, 'could not record API key use'),
    );
    this.#pendingTouches.add(pending);
    void pending.finally(() => this.#pendingTouches.delete(pending));
  }
}

/**
 * The principal a stored key grants. Scopes this code no longer knows are dropped (least
 * privilege); a key left with none, or with a grant that is no longer allowed, grants nothing.
 */
function principalOf(row: LookupRow): Principal | null {
  const scopes = new Set(row.scopes.filter(isScope));
  if (scopes.size === 0 || checkGrant(scopes, row.customer_id) !== null) return null;
  return { actor: `key:${row.id}`, kind: 'api_key', scopes, customerId: row.customer_id, expiresAt: null };
}

function toSummary(row: SummaryRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    customerId: row.customer_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at,
  };
}

function validateCreate(r: CreateApiKeyRequest): Result<{ scopes: Scope[]; customerId: string | null; name: string }, CreateApiKeyError> {
  const invalid = (message: string) => err({ code: 'invalid_request' as const, message });
  if (r.actor.trim() === '') return invalid('an actor is required');
  const unknown = r.scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) return invalid(`unknown scope: ${unknown.map((s) => s.slice(0, 40)).join(', ')}`);
  const scopes = [...new Set(r.scopes.filter(isScope))];
  if (scopes.length === 0) return invalid('at least one scope is required');
  const customerId = r.customerId ?? null;
  if (customerId !== null && !isCustomerId(customerId)) return invalid('the customer id must be 1-64 characters of A-Z a-z 0-9 _ - .');
  const name = r.name ?? '';
  if (!NAME.test(name)) return invalid('the name must be at most 200 characters, without control characters');
  const grantProblem = checkGrant(new Set(scopes), customerId);
  if (grantProblem !== null) return invalid(grantProblem);
  return ok({ scopes, customerId, name });
}
