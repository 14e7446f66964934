import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/infrastructure/config/config.js';
import { StripePaymentProvider } from '../../src/infrastructure/stripe/stripe-payment-provider.js';
import { stripeProviderFrom } from '../../src/infrastructure/stripe/stripe-provider-from-config.js';

const fails = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted it');
};

describe('Stripe configuration', () => {
  it('keeps the simulated provider as the default, needing no key', () => {
    expect(loadConfig({}).PAYMENT_PROVIDER).toBe('simulated');
  });

  it('PAYMENT_PROVIDER=stripe without STRIPE_SECRET_KEY is refused in one line naming the setting', () => {
    for (const env of [{ PAYMENT_PROVIDER: 'stripe' }, { PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: '  ' }] as Record<string, string>[]) {
      const message = fails(env);
      expect(message).toMatch(/^invalid configuration: STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe/);
      expect(message).not.toContain('\n');
    }
  });

  it('a live key is refused outside production, without echoing it', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const message = fails({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_abc123secret', NODE_ENV });
      expect(message).toContain('STRIPE_SECRET_KEY: is a live key');
      expect(message).not.toContain('abc123secret');
    }
    expect(fails({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'rk_live_abc', NODE_ENV: 'test' })).toContain('is a live key');
  });

  it('a live key is accepted in production', () => {
    const config = loadConfig({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_live_abc123', NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40) });
    expect(config.STRIPE_SECRET_KEY).toBe('sk_live_abc123');
  });

  it('something that is not a Stripe secret key (a publishable key) is refused', () => {
    expect(fails({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'pk_test_abc' })).toContain('is not a Stripe secret key');
  });

  it('a test key with a test-server address builds the Stripe adapter', () => {
    const config = loadConfig({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_API_HOST: '127.0.0.1', STRIPE_API_PORT: '12111', STRIPE_API_PROTOCOL: 'http', STRIPE_MAX_NETWORK_RETRIES: '0' });
    expect(config).toMatchObject({ STRIPE_API_PORT: 12_111, STRIPE_API_PROTOCOL: 'http', STRIPE_TIMEOUT_MS: 20_000, STRIPE_MAX_NETWORK_RETRIES: 0 });
    const provider = stripeProviderFrom(config);
    expect(provider).toBeInstanceOf(StripePaymentProvider);
    expect(provider.name).toBe('stripe');
  });
});
