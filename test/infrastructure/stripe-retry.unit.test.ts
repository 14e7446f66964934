import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import { isTransient, withRetries } from '../../src/infrastructure/stripe/stripe-retry.js';

const apiError = (statusCode: number, headers: Record<string, string> = {}) => new Stripe.errors.StripeAPIError({ type: 'api_error', statusCode, headers, message: `HTTP ${statusCode}` });

describe('which Stripe failures are retried', () => {
  it('network errors, 409, 429 and 5xx are; 400, 401, 402 and 404 are not', () => {
    expect(isTransient(new Stripe.errors.StripeConnectionError({ type: 'api_error', message: 'socket hang up' }))).toBe(true);
    for (const status of [409, 429, 500, 502, 503]) expect(isTransient(apiError(status)), String(status)).toBe(true);
    for (const status of [400, 401, 402, 404]) expect(isTransient(apiError(status)), String(status)).toBe(false);
    expect(isTransient(new Error('not stripe'))).toBe(false);
  });

  it('Stripe-Should-Retry overrides the status either way', () => {
    expect(isTransient(apiError(500, { 'stripe-should-retry': 'false' }))).toBe(false);
    expect(isTransient(apiError(400, { 'stripe-should-retry': 'true' }))).toBe(true);
  });
});

describe('withRetries', () => {
  const policy = (sleeps: number[]) => ({ maxRetries: 3, initialDelayMs: 100, maxDelayMs: 300, sleep: (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  } });

  it('backs off exponentially with jitter, capped, and gives up as ProviderUnavailable after maxRetries + 1 attempts', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const error = await withRetries('capture', policy(sleeps), () => {
      calls++;
      return Promise.reject(apiError(503));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect((error as Error).message).toContain('HTTP 503');
    expect(calls).toBe(4);
    expect(sleeps).toHaveLength(3);
    const bounds = [[50, 100], [100, 200], [150, 300]];
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(bounds[i]?.[0] ?? 0);
      expect(ms).toBeLessThanOrEqual(bounds[i]?.[1] ?? 0);
    });
  });

  it('a non-transient error is thrown at once, untouched', async () => {
    const sleeps: number[] = [];
    const invalid = new Stripe.errors.StripeInvalidRequestError({ type: 'invalid_request_error', statusCode: 400, message: 'Missing required param: amount.' });
    await expect(withRetries('authorize', policy(sleeps), () => Promise.reject(invalid))).rejects.toBe(invalid);
    expect(sleeps).toHaveLength(0);
  });
});
