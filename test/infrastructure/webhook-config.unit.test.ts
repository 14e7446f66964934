import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/infrastructure/config/config.js';

/* The Stripe webhook settings: a comma list of signing secrets, checked without being echoed. */
describe('webhook configuration', () => {
  it('reads several signing secrets, trimmed; none by default (the endpoint then answers 503)', () => {
    expect(loadConfig({}).STRIPE_WEBHOOK_SECRET).toEqual([]);
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: ' whsec_new123 , whsec_old456 ' }).STRIPE_WEBHOOK_SECRET).toEqual(['whsec_new123', 'whsec_old456']);
    expect(loadConfig({}).STRIPE_WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    expect(loadConfig({})).toMatchObject({ WEBHOOK_INBOX_MAX_ATTEMPTS: 8, WEBHOOK_INBOX_RETRY_MIN_MS: 30_000, WEBHOOK_INBOX_RETRY_MAX_MS: 1_800_000, WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS: 2_000, WEBHOOK_INBOX_CLAIM_LEASE_MS: 300_000, WEBHOOK_INBOX_RETENTION_DAYS: 30 });
  });

  it('refuses an entry that is not a signing secret (an API key pasted by mistake) without echoing it', () => {
    expect(() => loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_ok1,sk_test_secretvalue' })).toThrow(/STRIPE_WEBHOOK_SECRET: 1 of its entries are not webhook signing secrets/);
    const message = ((): string => {
      try {
        loadConfig({ STRIPE_WEBHOOK_SECRET: 'sk_test_secretvalue' });
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/STRIPE_WEBHOOK_SECRET/);
    expect(message).not.toContain('sk_test_secretvalue');
  });

  it('refuses a retry ceiling below the first retry', () => {
    expect(() => loadConfig({ WEBHOOK_INBOX_RETRY_MIN_MS: '5000', WEBHOOK_INBOX_RETRY_MAX_MS: '1000' })).toThrow(/WEBHOOK_INBOX_RETRY_MAX_MS: must be at least WEBHOOK_INBOX_RETRY_MIN_MS/);
  });
});
