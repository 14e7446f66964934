import { createPublicKey } from 'node:crypto';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJwksFile, readPublicKeyFile } from '../../src/infrastructure/auth/key-files.js';
import { JwtVerifier } from '../../src/infrastructure/auth/jwt-verifier.js';
import { ConfigError } from '../../src/infrastructure/config/config.js';
import { NOW, TEST_SECRET, nowSeconds, tempDir } from './support.js';

const secretKey = new TextEncoder().encode(TEST_SECRET);
const files = tempDir();
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
let rsaPem: string;
let rsaVerifier: JwtVerifier;
let jwksVerifier: JwtVerifier;
const hsVerifier = new JwtVerifier({ secret: TEST_SECRET });

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  rsaVerifier = new JwtVerifier({ publicKey: readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', files.write('rsa.pem', rsaPem)) });
  const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', use: 'sig' };
  jwksVerifier = new JwtVerifier({ jwks: readJwksFile('AUTH_JWKS_FILE', files.write('jwks.json', JSON.stringify({ keys: [jwk] }))) });
});

afterAll(() => files.cleanup());

const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  sub: 'alice',
  scope: 'payments:read payments:write',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...overrides,
});

function sign(payload: JWTPayload, alg: string, key: CryptoKey | Uint8Array, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key);
}

describe('JwtVerifier', () => {
  it('accepts a valid HS256 token and maps it to a principal', async () => {
    const result = await hsVerifier.verify(await sign(claims({ customerId: 'cus_1' }), 'HS256', secretKey), NOW);
    expect(result).toEqual({
      ok: true,
      value: {
        actor: 'jwt:alice',
        kind: 'jwt',
        scopes: new Set(['payments:read', 'payments:write']),
        customerId: 'cus_1',
        expiresAt: new Date((nowSeconds() + 600) * 1_000),
      },
    });
  });

  it('accepts RS256 with a PEM public key file', async () => {
    const result = await rsaVerifier.verify(await sign(claims(), 'RS256', rsa.privateKey), NOW);
    expect(result.ok && result.value.actor).toBe('jwt:alice');
  });

  it('accepts ES256 through a local JWKS file, by kid', async () => {
    const result = await jwksVerifier.verify(await sign(claims({ scope: undefined, scopes: ['ledger:read'] }), 'ES256', ec.privateKey, { kid: 'ec-1' }), NOW);
    expect(result.ok && [...result.value.scopes]).toEqual(['ledger:read']);
  });

  it('refuses a JWKS token whose kid matches no key', async () => {
    const result = await jwksVerifier.verify(await sign(claims(), 'ES256', ec.privateKey, { kid: 'other' }), NOW);
    expect(result).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'no configured key matches the token' } });
  });

  it('answers expired_credentials past exp (beyond the 5 s tolerance), and accepts within it', async () => {
    const token = await sign(claims({ exp: nowSeconds() - 10 }), 'HS256', secretKey);
    expect(await hsVerifier.verify(token, NOW)).toEqual({ ok: false, error: { code: 'expired_credentials' } });
    const justExpired = await sign(claims({ exp: nowSeconds() - 3 }), 'HS256', secretKey);
    expect((await hsVerifier.verify(justExpired, NOW)).ok).toBe(true);
  });

  it('refuses a wrong signature', async () => {
    const token = await sign(claims(), 'HS256', new TextEncoder().encode('another-secret-of-at-least-32-bytes-xxxxx'));
    expect(await hsVerifier.verify(token, NOW)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'signature verification failed' } });
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await sign(claims(), 'HS256', secretKey)).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString('base64url');
    const result = await hsVerifier.verify(`${h}.${forged}.${s}`, NOW);
    expect(result.ok).toBe(false);
  });

  it('refuses alg none, whatever keys are configured', async () => {
    const unsecured = new UnsecuredJWT(claims()).encode();
    for (const verifier of [hsVerifier, rsaVerifier, jwksVerifier]) {
      const result = await verifier.verify(unsecured, NOW);
      expect(result).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'the token\'s algorithm is not accepted' } });
    }
  });

  it('refuses HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', async () => {
    const forged = await sign(claims(), 'HS256', new TextEncoder().encode(rsaPem));
    expect(await rsaVerifier.verify(forged, NOW)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'the token\'s algorithm is not accepted' } });
    // With both an HMAC secret and a public key configured, HS256 is checked against the secret only.
    const both = new JwtVerifier({ secret: TEST_SECRET, publicKey: { key: createPublicKey(rsaPem), algorithm: 'RS256' } });
    expect(await both.verify(forged, NOW)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'signature verification failed' } });
    expect((await both.verify(await sign(claims(), 'RS256', rsa.privateKey), NOW)).ok).toBe(true);
    expect((await both.verify(await sign(claims(), 'HS256', secretKey), NOW)).ok).toBe(true);
  });

  it('refuses RS256 when only an HS256 secret is configured, and other algorithms of the same family', async () => {
    expect((await hsVerifier.verify(await sign(claims(), 'RS256', rsa.privateKey), NOW)).ok).toBe(false);
    expect((await hsVerifier.verify(await sign(claims(), 'HS512', secretKey), NOW)).ok).toBe(false);
    // The header alone decides: refused before any key is looked at.
    const header = Buffer.from(JSON.stringify({ alg: 'PS256' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims())).toString('base64url');
    expect(await rsaVerifier.verify(`${header}.${body}.c2ln`, NOW))
      .toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'the token\'s algorithm is not accepted' } });
  });

  it('requires exp and sub', async () => {
    const { exp: _exp, ...noExp } = claims();
    expect(await hsVerifier.verify(await sign(noExp, 'HS256', secretKey), NOW)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'claim "exp" is required' } });
    const { sub: _sub, ...noSub } = claims();
    expect(await hsVerifier.verify(await sign(noSub, 'HS256', secretKey), NOW)).toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'claim "sub" is required' } });
  });

  it('refuses lifetimes over 30 days, with or without iat', async () => {
    const long = await sign(claims({ exp: nowSeconds() + 31 * 86_400 }), 'HS256', secretKey);
    expect((await hsVerifier.verify(long, NOW)).ok).toBe(false);
    const { iat: _iat, ...noIat } = claims({ exp: nowSeconds() + 31 * 86_400 });
    expect((await hsVerifier.verify(await sign(noIat, 'HS256', secretKey), NOW)).ok).toBe(false);
    const thirtyDays = await sign(claims({ exp: nowSeconds() + 30 * 86_400 }), 'HS256', secretKey);
    expect((await hsVerifier.verify(thirtyDays, NOW)).ok).toBe(true);
  });

  it('refuses tokens not valid yet (nbf) and issued in the future', async () => {
    expect(await hsVerifier.verify(await sign(claims({ nbf: nowSeconds() + 60 }), 'HS256', secretKey), NOW))
      .toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'the token is not valid yet (nbf)' } });
    expect((await hsVerifier.verify(await sign(claims({ iat: nowSeconds() + 60 }), 'HS256', secretKey), NOW)).ok).toBe(false);
  });

  it('refuses unknown scopes, no scope, and malformed scope claims', async () => {
    for (const payload of [claims({ scope: 'payments:read payments:delete' }), claims({ scope: undefined, scopes: ['root'] }), claims({ scope: '' }), claims({ scope: undefined }), claims({ scope: ['payments:read'] })]) {
      const result = await hsVerifier.verify(await sign(payload, 'HS256', secretKey), NOW);
      expect(result.ok ? 'accepted' : result.error.code).toBe('invalid_credentials');
    }
  });

  it('unites `scope` and `scopes`', async () => {
    const result = await hsVerifier.verify(await sign(claims({ scope: 'payments:read', scopes: ['refunds:write'] }), 'HS256', secretKey), NOW);
    expect(result.ok && [...result.value.scopes].sort()).toEqual(['payments:read', 'refunds:write']);
  });

  it('validates customerId and refuses admin for a customer', async () => {
    for (const customerId of ['cus 1', '', 'x'.repeat(65), 42, 'cus/1']) {
      const result = await hsVerifier.verify(await sign(claims({ customerId }), 'HS256', secretKey), NOW);
      expect(result.ok ? 'accepted' : result.error.code).toBe('invalid_credentials');
    }
    const nullCustomer = await hsVerifier.verify(await sign(claims({ customerId: null }), 'HS256', secretKey), NOW);
    expect(nullCustomer.ok && nullCustomer.value.customerId).toBeNull();
    const adminForCustomer = await hsVerifier.verify(await sign(claims({ scope: 'admin', customerId: 'cus_1' }), 'HS256', secretKey), NOW);
    expect(adminForCustomer.ok).toBe(false);
  });

  it('refuses a sub that would make a bad actor', async () => {
    for (const sub of ['has space', 'line\nbreak', 'x'.repeat(201)]) {
      expect((await hsVerifier.verify(await sign(claims({ sub }), 'HS256', secretKey), NOW)).ok).toBe(false);
    }
  });

  it('checks issuer and audience when configured', async () => {
    const strict = new JwtVerifier({ secret: TEST_SECRET }, { issuer: 'https://issuer.example', audience: 'ledger' });
    expect((await strict.verify(await sign(claims({ iss: 'https://issuer.example', aud: 'ledger' }), 'HS256', secretKey), NOW)).ok).toBe(true);
    expect(await strict.verify(await sign(claims({ iss: 'https://evil.example', aud: 'ledger' }), 'HS256', secretKey), NOW))
      .toEqual({ ok: false, error: { code: 'invalid_credentials', message: 'claim "iss" is not accepted' } });
    expect((await strict.verify(await sign(claims({ iss: 'https://issuer.example' }), 'HS256', secretKey), NOW)).ok).toBe(false);
  });

  it('calls garbage malformed without echoing it', async () => {
    const result = await hsVerifier.verify('eyJub3QiOiJqc29uIn0.bm90IGpzb24.c2ln', NOW);
    expect(result).toEqual({ ok: false, error: { code: 'malformed_credentials', message: 'not a well-formed JWT' } });
  });

  it('refuses weak configuration', () => {
    expect(() => new JwtVerifier({ secret: 'short' })).toThrow(/32 bytes/);
    expect(() => new JwtVerifier({})).toThrow();
  });
});

describe('key files', () => {
  it('refuses a private key as the public key file, and names the setting, not the content', async () => {
    const { exportPKCS8 } = await import('jose');
    const pem = await exportPKCS8(rsa.privateKey);
    const path = files.write('private.pem', pem);
    expect(() => readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', path)).toThrow(ConfigError);
    try {
      readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', path);
    } catch (error) {
      expect((error as Error).message).toContain('AUTH_JWT_PUBLIC_KEY_FILE');
      expect((error as Error).message).not.toContain(pem.slice(40, 80));
    }
  });

  it('refuses a missing file, non-JSON JWKS, and private or symmetric JWKs', async () => {
    expect(() => readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', '/nonexistent/key.pem')).toThrow(/AUTH_JWT_PUBLIC_KEY_FILE: cannot read/);
    expect(() => readJwksFile('AUTH_JWKS_FILE', files.write('bad.json', 'nope'))).toThrow(/not JSON/);
    const privateJwk = await exportJWK(ec.privateKey);
    expect(() => readJwksFile('AUTH_JWKS_FILE', files.write('priv.json', JSON.stringify({ keys: [privateJwk] })))).toThrow(/private/);
    expect(() => readJwksFile('AUTH_JWKS_FILE', files.write('oct.json', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })))).toThrow(/only RSA and EC/);
  });
});

describe('JwtVerifier cache of verified tokens', () => {
  it('still refuses a remembered token once it has expired', async () => {
    const verifier = new JwtVerifier({ secret: TEST_SECRET });
    const token = await sign(claims({ exp: nowSeconds() + 60 }), 'HS256', secretKey);
    expect((await verifier.verify(token, NOW)).ok).toBe(true);
    expect((await verifier.verify(token, NOW)).ok).toBe(true);
    const later = new Date(NOW.getTime() + 10 * 60_000);
    expect(await verifier.verify(token, later)).toEqual({ ok: false, error: { code: 'expired_credentials' } });
  });

  it('never remembers a refused token', async () => {
    const verifier = new JwtVerifier({ secret: TEST_SECRET });
    const forged = await sign(claims(), 'HS256', new TextEncoder().encode('another-secret-another-secret-another-0'));
    expect((await verifier.verify(forged, NOW)).ok).toBe(false);
    expect((await verifier.verify(forged, NOW)).ok).toBe(false);
  });
});
