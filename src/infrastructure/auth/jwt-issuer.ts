import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Scope } from '../../application/auth/principal.js';
import { isCustomerId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { Config } from '../config/config.js';
import { jwtSecretFrom } from '../config/config.js';
import type { AsymmetricKey } from './key-files.js';
import { readPrivateKeyFile } from './key-files.js';
import { MAX_TOKEN_LIFETIME_SECONDS, checkGrant, isValidSubject } from './jwt-policy.js';

export interface MintRequest {
  readonly sub: string;
  readonly scopes: readonly Scope[];
  readonly customerId?: string | null | undefined;
  readonly ttlSeconds: number;
  readonly now: Date;
}

export type MintError = { readonly code: 'invalid_request'; readonly message: string };

export interface JwtIssuerOptions {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

type SigningKey = { readonly algorithm: 'HS256'; readonly key: Uint8Array } | { readonly algorithm: AsymmetricKey['algorithm']; readonly key: KeyObject };

/**
 * Mints the tokens `ledger token create` prints: `sub`, `scope` (space-separated),
 * optional `customerId`, `iat`, `exp`, a random `jti`, and `iss`/`aud` when configured.
 * It refuses whatever the verifier would refuse (unknown subject format, lifetime over 30
 * days, admin with a customer), so a minted token always works.
 */
export class JwtIssuer {
  private constructor(
    private readonly signingKey: SigningKey,
    private readonly options: JwtIssuerOptions,
  ) {}

  static hs256(secret: string, options: JwtIssuerOptions = {}): JwtIssuer {
    const key = new TextEncoder().encode(secret);
    if (key.byteLength < 32) throw new Error('an HS256 secret needs at least 32 bytes');
    return new JwtIssuer({ algorithm: 'HS256', key }, options);
  }

  /** RS256 or ES256, decided by the private key's type. */
  static asymmetric(privateKey: AsymmetricKey, options: JwtIssuerOptions = {}): JwtIssuer {
    if (privateKey.key.type !== 'private') throw new Error('minting needs a private key');
    return new JwtIssuer({ algorithm: privateKey.algorithm, key: privateKey.key }, options);
  }

  get algorithm(): string {
    return this.signingKey.algorithm;
  }

  async mint(request: MintRequest): Promise<Result<string, MintError>> {
    const problem = validate(request);
    if (problem !== null) return err({ code: 'invalid_request', message: problem });
    const iat = Math.floor(request.now.getTime() / 1_000);
    const jwt = new SignJWT({
      scope: [...new Set(request.scopes)].join(' '),
      ...(request.customerId ? { customerId: request.customerId } : {}),
    })
      .setProtectedHeader({ alg: this.signingKey.algorithm, typ: 'JWT' })
      .setSubject(request.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + request.ttlSeconds)
      .setJti(randomUUID());
    if (this.options.issuer !== undefined) jwt.setIssuer(this.options.issuer);
    if (this.options.audience !== undefined) jwt.setAudience(this.options.audience);
    return ok(await jwt.sign(this.signingKey.key));
  }
}

function validate(r: MintRequest): string | null {
  if (!isValidSubject(r.sub)) return 'the subject must be 1-200 printable characters without spaces';
  if (r.scopes.length === 0) return 'at least one scope is required';
  if (!Number.isInteger(r.ttlSeconds) || r.ttlSeconds <= 0) return 'the lifetime must be a positive whole number of seconds';
  if (r.ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) return `the lifetime may be at most ${MAX_TOKEN_LIFETIME_SECONDS / 86_400} days; use an API key for long-lived access`;
  const customerId = r.customerId ?? null;
  if (customerId !== null && !isCustomerId(customerId)) return 'the customer id must be 1-64 characters of A-Z a-z 0-9 _ - .';
  return checkGrant(new Set(r.scopes), customerId);
}

export type IssuerFromConfig =
  | { readonly ok: true; readonly issuer: JwtIssuer; readonly isDevelopmentDefault: boolean }
  | { readonly ok: false; readonly message: string };

/**
 * The issuer the configuration allows: AUTH_JWT_PRIVATE_KEY_FILE when set (RS256/ES256,
 * to pair with AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE on the service), else the HS256
 * secret (configured, or the development default). With only a public key or JWKS, the
 * private half lives elsewhere and this process cannot mint: the answer says what to set.
 */
export function jwtIssuerFromConfig(config: Config): IssuerFromConfig {
  const options = { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE };
  if (config.AUTH_JWT_PRIVATE_KEY_FILE !== undefined) {
    const key = readPrivateKeyFile('AUTH_JWT_PRIVATE_KEY_FILE', config.AUTH_JWT_PRIVATE_KEY_FILE);
    return { ok: true, issuer: JwtIssuer.asymmetric(key, options), isDevelopmentDefault: false };
  }
  const { secret, isDevelopmentDefault } = jwtSecretFrom(config);
  if (secret === null) {
    return {
      ok: false,
      message: 'tokens are verified with a public key (AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE) and no signing key is set: '
        + 'set AUTH_JWT_PRIVATE_KEY_FILE to the matching PEM private key, or mint tokens with the identity provider that holds it',
    };
  }
  return { ok: true, issuer: JwtIssuer.hs256(secret, options), isDevelopmentDefault };
}
