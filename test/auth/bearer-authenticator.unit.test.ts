import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/application/auth/principal.js';
import { ok } from '../../src/domain/result.js';
import { BearerAuthenticator, type CredentialVerifier } from '../../src/infrastructure/auth/bearer-authenticator.js';
import { newApiKey } from '../../src/infrastructure/auth/api-key-format.js';
import { NOW } from './support.js';

function recording(kind: Principal['kind']): CredentialVerifier & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    verify: (token) => {
      seen.push(token);
      return Promise.resolve(ok({ actor: `${kind}:x`, kind, scopes: new Set(['payments:read'] as const), customerId: null, expiresAt: null }));
    },
  };
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';

describe('BearerAuthenticator', () => {
  it('sends lk_ tokens to the API keys and JWT-shaped ones to the JWT verifier', async () => {
    const jwt = recording('jwt');
    const apiKeys = recording('api_key');
    const auth = new BearerAuthenticator({ jwt, apiKeys });
    const key = newApiKey().plaintext;
    expect((await auth.authenticate(key, NOW)).ok).toBe(true);
    expect((await auth.authenticate(JWT, NOW)).ok).toBe(true);
    expect((await auth.authenticate(`Bearer ${JWT}`, NOW)).ok).toBe(true);
    expect((await auth.authenticate(`bearer   ${key}  `, NOW)).ok).toBe(true);
    expect(apiKeys.seen).toEqual([key, key]);
    expect(jwt.seen).toEqual([JWT, JWT]);
  });

  it('answers missing, malformed and too long without calling a verifier', async () => {
    const jwt = recording('jwt');
    const apiKeys = recording('api_key');
    const auth = new BearerAuthenticator({ jwt, apiKeys }, { maxTokenLength: 100 });
    expect(await auth.authenticate(undefined, NOW)).toEqual({ ok: false, error: { code: 'missing_credentials' } });
    expect(await auth.authenticate('  ', NOW)).toEqual({ ok: false, error: { code: 'missing_credentials' } });
    expect(await auth.authenticate('Bearer ', NOW)).toEqual({ ok: false, error: { code: 'missing_credentials' } });
    for (const token of ['Basic dXNlcjpwYXNz', 'hello', 'a.b', 'a.b.c.d', 'a.b.c!', `${'a'.repeat(60)}.${'b'.repeat(60)}.c`, 'x'.repeat(1_000_000)]) {
      const result = await auth.authenticate(token, NOW);
      expect(result.ok ? 'accepted' : result.error.code, token.slice(0, 20)).toBe('malformed_credentials');
      expect(JSON.stringify(result)).not.toContain(token.slice(0, 20) === 'hello' ? 'hello' : token.slice(0, 20));
    }
    expect(jwt.seen).toEqual([]);
    expect(apiKeys.seen).toEqual([]);
  });

  it('refuses a kind of credential that is not configured', async () => {
    const auth = new BearerAuthenticator({ jwt: null, apiKeys: recording('api_key') });
    expect((await auth.authenticate(JWT, NOW)).ok).toBe(false);
  });
});
