import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { DEFAULT_RETRY_POLICY } from './stripe-retry.js';
import { StripePaymentProvider } from './stripe-payment-provider.js';

/** The Stripe adapter as configured; loadConfig has already checked the key (config.ts). */
export function stripeProviderFrom(config: Config): StripePaymentProvider {
  if (config.STRIPE_SECRET_KEY === undefined) throw new ConfigError('STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe');
  return new StripePaymentProvider({
    secretKey: config.STRIPE_SECRET_KEY,
    host: config.STRIPE_API_HOST,
    port: config.STRIPE_API_PORT,
    protocol: config.STRIPE_API_PROTOCOL,
    timeoutMs: config.STRIPE_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY_POLICY, maxRetries: config.STRIPE_MAX_NETWORK_RETRIES },
  });
}
