import { decodeJwt, decodeProtectedHeader, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { JwtIssuer, jwtIssuerFromConfig } from '../../src/infrastructure/auth/jwt-issuer.js';
import { JwtVerifier } from '../../src/infrastructure/auth/jwt-verifier.js';
import { readPrivateKeyFile, readPublicKeyFile } from '../../src/infrastructure/auth/key-files.js';
import { jwtVerifierFromConfig } from '../../src/infrastructure/auth/authenticator-from-config.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { NOW, TEST_SECRET, tempDir } from './support.js';

const files = tempDir();
afterAll(() => files.cleanup());

describe('JwtIssuer', () => {
  it('mints HS256 tokens the verifier accepts, with the requested grant', async () => {
    const issuer = JwtIssuer.hs256(TEST_SECRET, { issuer: 'ledger-cli', audience: 'ledger' });
    const minted = await issuer.mint({ sub: 'ops', scopes: ['payments:read', 'payments:write'], customerId: 'cus_1', ttlSeconds: 3_600, now: NOW });
    if (!minted.ok) throw new Error(minted.error.message);
    expect(decodeProtectedHeader(minted.value)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(minted.value);
    expect(claims).toMatchObject({ sub: 'ops', scope: 'payments:read payments:write', customerId: 'cus_1', iss: 'ledger-cli', aud: 'ledger' });
    expect(claims.exp! - claims.iat!).toBe(3_600);
    expect(typeof claims.jti).toBe('string');

    const verified = await new JwtVerifier({ secret: TEST_SECRET }, { issuer: 'ledger-cli', audience: 'ledger' }).verify(minted.value, NOW);
    expect(verified).toEqual({
      ok: true,
      value: { actor: 'jwt:ops', kind: 'jwt', scopes: new Set(['payments:read', 'payments:write']), customerId: 'cus_1', expiresAt: new Date(NOW.getTime() + 3_600_000) },
    });
    // And it expires.
    expect(await new JwtVerifier({ secret: TEST_SECRET }).verify(minted.value, new Date(NOW.getTime() + 3_700_000))).toEqual({ ok: false, error: { code: 'expired_credentials' } });
  });

  it('mints ES256 with a private key file, verified by the public key file', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const issuer = JwtIssuer.asymmetric(readPrivateKeyFile('AUTH_JWT_PRIVATE_KEY_FILE', files.write('ec.key', await exportPKCS8(privateKey))));
    expect(issuer.algorithm).toBe('ES256');
    const minted = await issuer.mint({ sub: 'ops', scopes: ['admin'], ttlSeconds: 60, now: NOW });
    if (!minted.ok) throw new Error(minted.error.message);
    const verifier = new JwtVerifier({ publicKey: readPublicKeyFile('AUTH_JWT_PUBLIC_KEY_FILE', files.write('ec.pub', await exportSPKI(publicKey))) });
    const verified = await verifier.verify(minted.value, NOW);
    expect(verified.ok && verified.value.scopes).toEqual(new Set(['admin']));
  });

  it('refuses what the verifier would refuse', async () => {
    const issuer = JwtIssuer.hs256(TEST_SECRET);
    const base = { sub: 'ops', scopes: ['payments:read'] as const, ttlSeconds: 60, now: NOW };
    for (const bad of [
      { ...base, ttlSeconds: 31 * 86_400 },
      { ...base, ttlSeconds: 0 },
      { ...base, sub: 'two words' },
      { ...base, scopes: [] },
      { ...base, customerId: 'not valid!' },
      { ...base, scopes: ['admin'] as const, customerId: 'cus_1' },
    ]) {
      expect((await issuer.mint(bad)).ok).toBe(false);
    }
  });
});

describe('jwtIssuerFromConfig', () => {
  it('uses the development secret in development, flagged, and its tokens verify against a development service', async () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    const found = jwtIssuerFromConfig(config);
    if (!found.ok) throw new Error(found.message);
    expect(found.isDevelopmentDefault).toBe(true);
    const minted = await found.issuer.mint({ sub: 'dev', scopes: ['payments:read'], ttlSeconds: 60, now: NOW });
    expect(minted.ok && (await jwtVerifierFromConfig(config).verify(minted.value, NOW)).ok).toBe(true);
  });

  it('says what to set when only a public key is configured', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const config = loadConfig({ AUTH_JWT_PUBLIC_KEY_FILE: files.write('rsa.pub', await exportSPKI(publicKey)) });
    const found = jwtIssuerFromConfig(config);
    expect(found.ok ? 'minted' : found.message).toMatch(/AUTH_JWT_PRIVATE_KEY_FILE/);
  });
});
