import Stripe from 'stripe';
import type { RetryPolicy } from './stripe-retry.js';
import { DEFAULT_RETRY_POLICY } from './stripe-retry.js';

/** How every Stripe adapter (payments, dispute evidence) reaches Stripe. */
export interface StripeProviderOptions {
  readonly secretKey: string;
  /** For tests and stripe-mock-like servers; Stripe's own API otherwise. */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly protocol?: 'http' | 'https' | undefined;
  /** Longest wait for one HTTP answer; a request that hangs longer is retried with the same key. */
  readonly timeoutMs?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/** The SDK client and the retry policy our calls use (the SDK's own retries are off: they skip 429; stripe-retry.ts). */
export function stripeClient(options: StripeProviderOptions): { readonly stripe: Stripe; readonly retry: RetryPolicy } {
  const stripe = new Stripe(options.secretKey, {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxNetworkRetries: 0,
    telemetry: false,
    appInfo: { name: 'ledger' },
  });
  return { stripe, retry: options.retry ?? DEFAULT_RETRY_POLICY };
}
