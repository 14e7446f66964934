import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/infrastructure/config/config.js';

const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', AUTH_JWT_SECRET: 'a-production-secret-of-at-least-32-bytes-0123' };

describe('webhook configuration', () => {
  it('defaults: private URLs refused, 10 s timeout, 16 in flight', () => {
    const c = loadConfig(base);
    expect([c.WEBHOOK_ALLOW_PRIVATE_URLS, c.WEBHOOK_TIMEOUT_MS, c.WEBHOOK_CONCURRENCY]).toEqual([false, 10_000, 16]);
  });

  it('allows private URLs outside production only', () => {
    expect(loadConfig({ ...base, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', NODE_ENV: 'test' }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(true);
    expect(() => loadConfig({ ...base, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', NODE_ENV: 'production' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_URLS/);
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).WEBHOOK_ALLOW_PRIVATE_URLS).toBe(false);
  });
});

describe('webhook delivery retention', () => {
  it('defaults to 30 days and refuses less than 4 (the 3-day retry window must fit)', () => {
    expect(loadConfig(base).WEBHOOK_DELIVERY_RETENTION_DAYS).toBe(30);
    expect(loadConfig({ ...base, WEBHOOK_DELIVERY_RETENTION_DAYS: '4' }).WEBHOOK_DELIVERY_RETENTION_DAYS).toBe(4);
    expect(() => loadConfig({ ...base, WEBHOOK_DELIVERY_RETENTION_DAYS: '3' })).toThrow(/WEBHOOK_DELIVERY_RETENTION_DAYS/);
  });
});
