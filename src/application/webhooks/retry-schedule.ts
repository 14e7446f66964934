/*
 * When a failed delivery is tried again (README, "Webhooks"): exponential from 30 s,
 * doubling per failed attempt, capped at 12 h, each wait jittered to 80–120 % so that an
 * endpoint's backlog, or many endpoints that failed together, do not come back in
 * lockstep. A delivery is given up (`failed`) only at a failure at least GIVE_UP_AFTER_MS
 * after its first attempt, so every delivery is retried for at least 3 days:
 * about 30 s, 1 m, 2 m, 4 m, 8 m, 16 m, 32 m, 1 h, 2 h, 4.3 h, 8.5 h, then every 12 h —
 * some 17 attempts over 3 to 3.5 days.
 */

export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 12 * 3_600_000;
export const GIVE_UP_AFTER_MS = 3 * 24 * 3_600_000;
/** An endpoint none of whose deliveries succeeded for this long is disabled. */
export const DISABLE_ENDPOINT_AFTER_MS = 3 * 24 * 3_600_000;
const JITTER_RATIO = 0.2;
const MAX_EXPONENT = 30;

/** The wait after failed attempt number `attempts` (1 = the first attempt failed). */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(Math.floor(attempts) - 1, 0), MAX_EXPONENT);
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** exponent);
  return Math.round(base * (1 - JITTER_RATIO + 2 * JITTER_RATIO * random()));
}

export type AfterFailure = { readonly kind: 'retry'; readonly at: Date } | { readonly kind: 'give_up' };

/** What follows a failed attempt made at `now`, on a delivery first tried at `firstAttemptAt`. */
export function afterFailure(attempts: number, firstAttemptAt: Date, now: Date, random: () => number = Math.random): AfterFailure {
  if (now.getTime() - firstAttemptAt.getTime() >= GIVE_UP_AFTER_MS) return { kind: 'give_up' };
  return { kind: 'retry', at: new Date(now.getTime() + retryDelayMs(attempts, random)) };
}
