import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEVELOPMENT_API_KEY_PEPPER,
  DEVELOPMENT_JWT_SECRET,
  apiKeyPepperFrom,
  developmentDefaultsWarning,
  jwtSecretFrom,
  loadConfig,
} from '../../src/infrastructure/config/config.js';
import { TEST_SECRET } from './support.js';

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('auth configuration', () => {
  it('refuses production without a token key, naming what to set', () => {
    const message = messageOf(() => loadConfig({ NODE_ENV: 'production' }));
    expect(message).toMatch(/AUTH_JWT_SECRET/);
    expect(message).toMatch(/AUTH_JWT_PUBLIC_KEY_FILE/);
    expect(message).toMatch(/AUTH_JWKS_FILE/);
    // An empty variable is no secret either.
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: '  ' })).toThrow(ConfigError);
  });

  it('refuses the development defaults in production, and short secrets anywhere, without echoing them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: DEVELOPMENT_JWT_SECRET })).toThrow(/development secret/);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_SECRET, AUTH_API_KEY_PEPPER: DEVELOPMENT_API_KEY_PEPPER })).toThrow(/development pepper/);
    const message = messageOf(() => loadConfig({ AUTH_JWT_SECRET: 'too-short-secret-value' }));
    expect(message).toMatch(/at least 32 bytes/);
    expect(message).not.toContain('too-short-secret-value');
  });

  it('runs production with real secrets, and no pepper means a plain hash', () => {
    const config = loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_SECRET });
    expect(jwtSecretFrom(config)).toEqual({ secret: TEST_SECRET, isDevelopmentDefault: false });
    expect(apiKeyPepperFrom(config)).toEqual({ pepper: null, isDevelopmentDefault: false });
    expect(developmentDefaultsWarning(config)).toBeNull();
  });

  it('falls back to the well-known development secret and pepper, with a loud warning that holds no secret', () => {
    const config = loadConfig({});
    expect(jwtSecretFrom(config)).toEqual({ secret: DEVELOPMENT_JWT_SECRET, isDevelopmentDefault: true });
    expect(apiKeyPepperFrom(config)).toEqual({ pepper: DEVELOPMENT_API_KEY_PEPPER, isDevelopmentDefault: true });
    const warning = developmentDefaultsWarning(config) ?? '';
    expect(warning).toMatch(/^INSECURE: AUTH_JWT_SECRET and AUTH_API_KEY_PEPPER not set/);
    expect(warning).not.toContain(DEVELOPMENT_JWT_SECRET);
    expect(developmentDefaultsWarning(config, ['AUTH_API_KEY_PEPPER'])).not.toMatch(/AUTH_JWT_SECRET/);
  });

  it('has no HS256 secret when only asymmetric keys are configured', () => {
    expect(jwtSecretFrom(loadConfig({ AUTH_JWKS_FILE: '/etc/ledger/jwks.json' }))).toEqual({ secret: null, isDevelopmentDefault: false });
    expect(() => loadConfig({ AUTH_JWKS_FILE: '/a', AUTH_JWT_PUBLIC_KEY_FILE: '/b' })).toThrow(/not both/);
  });

  it('parses the HTTP hardening settings with their defaults', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({ CORS_ORIGINS: [], RATE_LIMIT_PER_MINUTE: 600, RATE_LIMIT_STORE: 'memory', METRICS_AUTH: 'none' });
    const set = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example,', RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_STORE: 'postgres', METRICS_AUTH: 'admin' });
    expect(set).toMatchObject({ CORS_ORIGINS: ['https://a.example', 'https://b.example'], RATE_LIMIT_PER_MINUTE: 60, RATE_LIMIT_STORE: 'postgres', METRICS_AUTH: 'admin' });
    expect(() => loadConfig({ METRICS_AUTH: 'basic' })).toThrow(ConfigError);
  });
});

describe('the published development secret is never served beyond loopback', () => {
  it('defaults HOST to loopback outside production and to all interfaces in production', async () => {
    const { loadConfig } = await import('../../src/infrastructure/config/config.js');
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-real-production-secret-0123456789-abcdef' }).HOST).toBe('0.0.0.0');
  });

  it('refuses a reachable HOST with no secret of its own, accepts it with one', async () => {
    const { ConfigError, loadConfig } = await import('../../src/infrastructure/config/config.js');
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOST: '::1' })).not.toThrow();
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_JWT_SECRET: 'a-developer-chosen-secret-0123456789-abcdef' }).HOST).toBe('0.0.0.0');
  });
});
