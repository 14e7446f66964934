import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { DEFAULT_RETRY_POLICY } from './stripe-retry.js';
import type { StripeProviderOptions } from './stripe-client.js';
import { StripePaymentProvider } from './stripe-payment-provider.js';

/** Stripe's connection settings from config; loadConfig has already checked the key (config.ts). */
export function stripeOptionsFrom(config: Config): StripeProviderOptions {
  if (config.STRIPE_SECRET_KEY === undefined) throw new ConfigError('STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe');
  return {
    secretKey: config.STRIPE_SECRET_KEY,
    host: config.STRIPE_API_HOST,
    port: config.STRIPE_API_PORT,
    protocol: config.STRIPE_API_PROTOCOL,
    timeoutMs: config.STRIPE_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY_POLICY, maxRetries: config.STRIPE_MAX_NETWORK_RETRIES },
  };
}

/** The Stripe payment adapter as configured. */
export function stripeProviderFrom(config: Config): StripePaymentProvider {
  return new StripePaymentProvider(stripeOptionsFrom(config));
}
