import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitBucket, RateLimiter, RateLimitState } from './deps.js';

/** So many requests per window of so many seconds (a fixed window, per key). */
export interface RateLimitRule {
  readonly points: number;
  readonly durationSeconds: number;
}

export interface RateLimitPolicy {
  /** Per credential (the principal's actor): every authenticated request counts. */
  readonly credential: RateLimitRule;
  /**
   * Per client address, for requests whose credentials are missing or wrong: each such
   * request counts, and once the allowance is spent the address is refused (429) before its
   * credentials are even checked, so guessing keys is bounded. Valid requests do not count.
   */
  readonly unauthenticated: RateLimitRule;
}

/** 100 requests/s per credential on average; 30 failed authentications a minute per address. */
export const DEFAULT_RATE_LIMITS: RateLimitPolicy = Object.freeze({
  credential: Object.freeze({ points: 6_000, durationSeconds: 60 }),
  unauthenticated: Object.freeze({ points: 30, durationSeconds: 60 }),
});

/** The table RateLimiterPostgres keeps its counters in (it creates the table itself). */
export const RATE_LIMIT_TABLE = 'http_rate_limits';

const KEY_PREFIX: Record<RateLimitBucket, string> = { credential: 'cred', unauthenticated: 'anon' };

/** Store keys are at most 255 characters; a long actor (a JWT `sub` is unbounded) is hashed. */
const storeKey = (key: string): string => (key.length <= 128 ? key : `sha256:${createHash('sha256').update(key).digest('base64url')}`);

const secondsUntilReset = (msBeforeNext: number, durationSeconds: number): number =>
  msBeforeNext < 0 ? durationSeconds : Math.max(1, Math.ceil(msBeforeNext / 1000));

/**
 * RateLimiter over rate-limiter-flexible: one limiter per bucket, in whatever store they
 * were built on. Use inMemoryRateLimiter or postgresRateLimiter to make one.
 */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(private readonly limiters: Readonly<Record<RateLimitBucket, RateLimiterAbstract>>) {}

  async consume(bucket: RateLimitBucket, key: string): Promise<RateLimitState> {
    const limiter = this.limiters[bucket];
    try {
      return this.state(limiter, await limiter.consume(storeKey(key)), true);
    } catch (rejection) {
      // Over the limit is a rejection with the counter's state; anything else is a failure.
      if (rejection instanceof RateLimiterRes) return this.state(limiter, rejection, false);
      throw rejection;
    }
  }

  async peek(bucket: RateLimitBucket, key: string): Promise<RateLimitState> {
    const limiter = this.limiters[bucket];
    const res = await limiter.get(storeKey(key));
    if (!res) return { allowed: true, limit: limiter.points, remaining: limiter.points, resetSeconds: limiter.duration, windowSeconds: limiter.duration };
    const state = this.state(limiter, res, true);
    return { ...state, allowed: state.remaining > 0 };
  }

  private state(limiter: RateLimiterAbstract, res: RateLimiterRes, allowed: boolean): RateLimitState {
    return {
      allowed,
      limit: limiter.points,
      remaining: Math.max(0, limiter.points - res.consumedPoints),
      resetSeconds: secondsUntilReset(res.msBeforeNext, limiter.duration),
      windowSeconds: limiter.duration,
    };
  }
}

const memoryLimiter = (bucket: RateLimitBucket, rule: RateLimitRule): RateLimiterMemory =>
  new RateLimiterMemory({ keyPrefix: KEY_PREFIX[bucket], points: rule.points, duration: rule.durationSeconds });

/** Counters in this process: right for one instance (and tests). The default. */
export function inMemoryRateLimiter(policy: RateLimitPolicy = DEFAULT_RATE_LIMITS): FlexibleRateLimiter {
  return new FlexibleRateLimiter({
    credential: memoryLimiter('credential', policy.credential),
    unauthenticated: memoryLimiter('unauthenticated', policy.unauthenticated),
  });
}

export interface PostgresRateLimiterOptions {
  readonly tableName?: string;
}

/**
 * Counters in PostgreSQL (one upsert per counted request, on the service's pool), so every
 * instance draws on the same allowances. Creates its table if missing. While the database
 * cannot be reached, each instance falls back to counting in memory rather than failing
 * requests.
 */
export async function postgresRateLimiter(
  pool: pg.Pool,
  policy: RateLimitPolicy = DEFAULT_RATE_LIMITS,
  options: PostgresRateLimiterOptions = {},
): Promise<FlexibleRateLimiter> {
  const tableName = options.tableName ?? RATE_LIMIT_TABLE;
  const build = (bucket: RateLimitBucket, rule: RateLimitRule, tableCreated: boolean): Promise<RateLimiterPostgres> =>
    new Promise((resolve, reject) => {
      // The ready callback runs inside the constructor when the table is known to exist,
      // and later otherwise; settle once both the limiter and the outcome are there.
      const pending: { limiter?: RateLimiterPostgres; outcome?: { readonly error: unknown } } = {};
      const settle = (): void => {
        const { limiter, outcome } = pending;
        if (limiter === undefined || outcome === undefined) return;
        if (outcome.error) reject(outcome.error instanceof Error ? outcome.error : new Error('could not create the rate limit table'));
        else resolve(limiter);
      };
      pending.limiter = new RateLimiterPostgres(
        {
          storeClient: pool,
          storeType: 'pool',
          tableName,
          tableCreated,
          keyPrefix: KEY_PREFIX[bucket],
          points: rule.points,
          duration: rule.durationSeconds,
          insuranceLimiter: memoryLimiter(bucket, rule),
        },
        (error?: unknown) => {
          pending.outcome = { error };
          settle();
        },
      );
      settle();
    });
  // One after the other: the first creates the table, the second knows it exists.
  const credential = await build('credential', policy.credential, false);
  const unauthenticated = await build('unauthenticated', policy.unauthenticated, true);
  return new FlexibleRateLimiter({ credential, unauthenticated });
}

export interface RateLimiterSettings {
  /** `memory`: per instance; `postgres`: shared by every instance through `pool`. */
  readonly store: 'memory' | 'postgres';
  /** Requests a minute per credential. */
  readonly perMinute: number;
  /** Failed authentications a minute per client address; default min(30, perMinute). */
  readonly unauthenticatedPerMinute?: number | undefined;
}

/** The RateLimiter the configuration describes (RATE_LIMIT_STORE, RATE_LIMIT_PER_MINUTE). */
export async function createRateLimiter(settings: RateLimiterSettings, pool: pg.Pool): Promise<FlexibleRateLimiter> {
  const policy: RateLimitPolicy = {
    credential: { points: settings.perMinute, durationSeconds: 60 },
    unauthenticated: { points: settings.unauthenticatedPerMinute ?? Math.min(DEFAULT_RATE_LIMITS.unauthenticated.points, settings.perMinute), durationSeconds: 60 },
  };
  return settings.store === 'postgres' ? postgresRateLimiter(pool, policy) : inMemoryRateLimiter(policy);
}

/**
 * The allowance as response headers (draft-ietf-httpapi-ratelimit-headers, the widely
 * implemented RateLimit-Limit / -Remaining / -Reset form, plus RateLimit-Policy).
 */
export function setRateLimitHeaders(res: Response, state: RateLimitState): void {
  res.setHeader('ratelimit-limit', String(state.limit));
  res.setHeader('ratelimit-remaining', String(state.remaining));
  res.setHeader('ratelimit-reset', String(state.resetSeconds));
  res.setHeader('ratelimit-policy', `${state.limit};w=${state.windowSeconds}`);
}
