import { SignJWT } from 'jose';
import type { Authenticator } from '../../../src/application/auth/authenticator.js';
import type { Scope } from '../../../src/application/auth/principal.js';
import { BearerAuthenticator } from '../../../src/infrastructure/auth/bearer-authenticator.js';
import { JwtVerifier } from '../../../src/infrastructure/auth/jwt-verifier.js';

/** The HS256 secret the test authenticator trusts (at least 32 bytes). */
export const TEST_JWT_SECRET = 'ledger-http-tests-hs256-secret-0123456789';

/** The real Authenticator, accepting HS256 JWTs signed with `secret` and no API keys. */
export function testAuthenticator(secret: string = TEST_JWT_SECRET): Authenticator {
  return new BearerAuthenticator({ jwt: new JwtVerifier({ secret }), apiKeys: null });
}

export interface TokenSpec {
  readonly scopes: readonly Scope[];
  readonly customerId?: string | null;
  readonly sub?: string;
  /** Seconds from `now`; negative for an expired token. */
  readonly expiresIn?: number;
  readonly secret?: string;
  readonly now?: Date;
}

/** An HS256 JWT as the service's issuer mints them: sub, scope, optional customerId, iat, exp. */
export async function mintToken(spec: TokenSpec): Promise<string> {
  const nowSeconds = Math.floor((spec.now ?? new Date()).getTime() / 1000);
  const expiresIn = spec.expiresIn ?? 3600;
  // An expired token was issued before it expired; its lifetime stays an hour.
  const iat = expiresIn > 0 ? nowSeconds : nowSeconds + expiresIn - 3600;
  return new SignJWT({ scope: spec.scopes.join(' '), ...(spec.customerId ? { customerId: spec.customerId } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(spec.sub ?? `test-${spec.scopes.join('+')}${spec.customerId ? `@${spec.customerId}` : ''}`)
    .setIssuedAt(iat)
    .setExpirationTime(nowSeconds + expiresIn)
    .sign(new TextEncoder().encode(spec.secret ?? TEST_JWT_SECRET));
}
