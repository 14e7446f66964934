import Stripe from 'stripe';
import { ProviderUnavailable } from '../../application/ports/payment-provider.js';

export interface RetryPolicy {
  /** Retries after the first attempt; the total is this plus one. */
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Replaceable so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, initialDelayMs: 500, maxDelayMs: 5_000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Whether Stripe might answer differently next time: the network failed or timed out, it
 * was busy (429, a 409 lock or an in-flight request with the same key), or it failed (5xx).
 * Stripe's `Stripe-Should-Retry: false` overrides: a retry would only replay the same answer.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (!(error instanceof Stripe.errors.StripeError)) return false;
  const shouldRetry = (error.headers as Record<string, string> | undefined)?.['stripe-should-retry'];
  if (shouldRetry === 'false') return false;
  if (shouldRetry === 'true') return true;
  const status = error.statusCode ?? 0;
  return status === 429 || status === 409 || status >= 500;
}

/**
 * Runs `call` until it answers or fails for good, with jittered exponential backoff between
 * transient failures. Every attempt is the same call with the same idempotency key, so
 * Stripe does the work at most once however many attempts reach it. Past the bound, the
 * command answers `provider_unavailable` and may be retried by its caller, with the same key.
 * The SDK's own retries are off (maxNetworkRetries: 0): it does not retry 429.
 */
export async function withRetries<T>(operation: string, policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (attempt >= policy.maxRetries) {
        const status = error instanceof Stripe.errors.StripeError && error.statusCode ? ` (HTTP ${error.statusCode})` : '';
        throw new ProviderUnavailable(`Stripe ${operation} failed after ${attempt + 1} attempts${status}: ${(error as Error).message}`, { cause: error });
      }
      const base = Math.min(policy.initialDelayMs * 2 ** attempt, policy.maxDelayMs);
      await sleep(base / 2 + Math.random() * (base / 2));
    }
  }
}
