import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, errors, jwtVerify } from 'jose';
import type { AuthenticationError, Principal } from '../../application/auth/principal.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { AsymmetricAlgorithm, AsymmetricKey } from './key-files.js';
import { ASYMMETRIC_ALGORITHMS } from './key-files.js';
import {
  CLOCK_TOLERANCE_SECONDS,
  MAX_TOKEN_LIFETIME_SECONDS,
  checkGrant,
  customerFromClaims,
  isValidSubject,
  scopesFromClaims,
} from './jwt-policy.js';

/** Where the verifier's keys come from. At least one must be present. */
export interface JwtVerificationKeys {
  /** HS256 shared secret, at least 32 bytes. */
  readonly secret?: string | null;
  /** One RSA or P-256 public key: RS256 or ES256, decided by the key's type. */
  readonly publicKey?: AsymmetricKey | null;
  /** A local JWKS: RS256 and ES256 keys, chosen by `kid` (or by trying each candidate). */
  readonly jwks?: JSONWebKeySet | null;
}

export interface JwtVerifierOptions {
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly clockToleranceSeconds?: number;
  readonly maxLifetimeSeconds?: number;
}

type VerifyOutcome = Result<Principal, AuthenticationError>;

const invalid = (message: string): VerifyOutcome => err({ code: 'invalid_credentials', message });

/**
 * Verifies bearer JWTs. Each key answers exactly one algorithm family: HS256 only ever
 * uses the configured secret, RS256/ES256 only ever the public key or the JWKS. So a token
 * whose header says HS256 can never be checked against a public key taken as an HMAC
 * secret (algorithm confusion), and `alg: none` is never in the allowed list.
 *
 * Claims: `sub` and `exp` required; lifetime (exp - iat, or exp - now without iat) at most
 * 30 days; `scope` and/or `scopes`, all known; optional `customerId`; `iss`/`aud` when
 * configured; 5 s of clock tolerance on exp/nbf/iat.
 */
/** Verified tokens remembered at most; enough for every active client of an instance. */
const VERIFIED_CACHE_MAX = 10_000;

export class JwtVerifier {
  /** Tokens already verified, by their exact text; bounded, oldest evicted first. */
  readonly #verified = new Map<string, Principal>();
  readonly #getKey: JWTVerifyGetKey;
  readonly #algorithms: string[];
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #tolerance: number;
  readonly #maxLifetime: number;

  constructor(keys: JwtVerificationKeys, options: JwtVerifierOptions = {}) {
    const secret = keys.secret == null ? null : new TextEncoder().encode(keys.secret);
    if (secret !== null && secret.byteLength < 32) throw new Error('an HS256 secret needs at least 32 bytes');
    const publicKey = keys.publicKey ?? null;
    const jwks = keys.jwks == null ? null : createLocalJWKSet(keys.jwks);
    if (secret === null && publicKey === null && jwks === null) throw new Error('JwtVerifier needs a secret, a public key or a JWKS');

    const algorithms = new Set<string>();
    if (secret !== null) algorithms.add('HS256');
    if (publicKey !== null) algorithms.add(publicKey.algorithm);
    if (jwks !== null) for (const a of ASYMMETRIC_ALGORITHMS) algorithms.add(a);
    this.#algorithms = [...algorithms];

    // jose has already refused an algorithm outside #algorithms when this runs.
    this.#getKey = async (header, token) => {
      if (header.alg === 'HS256' && secret !== null) return secret;
      if (publicKey !== null && header.alg === publicKey.algorithm) return publicKey.key;
      if (jwks !== null && ASYMMETRIC_ALGORITHMS.includes(header.alg as AsymmetricAlgorithm)) return jwks(header, token);
      throw new errors.JOSEAlgNotAllowed('no key for this algorithm');
    };
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#tolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
    this.#maxLifetime = options.maxLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
  }

  /** The algorithms a token may be signed with, for the startup log line. */
  get algorithms(): readonly string[] {
    return this.#algorithms;
  }

  async verify(token: string, now: Date): Promise<VerifyOutcome> {
    // A client sends the same token on every request until it expires; the signature and
    // claims cannot change meanwhile (a JWT is not revocable), so only expiry is re-checked.
    const cached = this.#verified.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt !== null && now.getTime() < cached.expiresAt.getTime() + this.#tolerance * 1_000) return ok(cached);
      this.#verified.delete(token);
    }
    const outcome = await this.#verifyUncached(token, now);
    if (outcome.ok) this.#remember(token, outcome.value);
    return outcome;
  }

  #remember(token: string, principal: Principal): void {
    // Map keeps insertion order: the first key is the oldest entry.
    if (this.#verified.size >= VERIFIED_CACHE_MAX) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, principal);
  }

  async #verifyUncached(token: string, now: Date): Promise<VerifyOutcome> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, {
        algorithms: this.#algorithms,
        currentDate: now,
        clockTolerance: this.#tolerance,
        requiredClaims: ['exp', 'sub'],
        ...(this.#issuer !== undefined ? { issuer: this.#issuer } : {}),
        ...(this.#audience !== undefined ? { audience: this.#audience } : {}),
      }));
    } catch (error) {
      return joseFailure(error);
    }
    return this.#principalFrom(payload, now);
  }

  #principalFrom(payload: JWTPayload, now: Date): VerifyOutcome {
    const { sub, exp, iat } = payload;
    // jose has checked that exp and iat, when present, are numbers and that exp is ahead.
    if (typeof sub !== 'string' || !isValidSubject(sub)) return invalid('claim "sub" must be 1-200 printable characters without spaces');
    const nowSeconds = now.getTime() / 1_000;
    if (iat !== undefined && iat > nowSeconds + this.#tolerance) return invalid('claim "iat" is in the future');
    const issuedAt = iat ?? nowSeconds;
    if ((exp as number) - issuedAt > this.#maxLifetime + this.#tolerance) {
      return invalid(`the token lives longer than ${this.#maxLifetime} seconds; use an API key for long-lived access`);
    }
    const scopes = scopesFromClaims(payload);
    if (!scopes.ok) return scopes;
    const customerId = customerFromClaims(payload);
    if (!customerId.ok) return customerId;
    const grantProblem = checkGrant(scopes.value, customerId.value);
    if (grantProblem !== null) return invalid(grantProblem);
    return ok({
      actor: `jwt:${sub}`,
      kind: 'jwt',
      scopes: scopes.value,
      customerId: customerId.value,
      expiresAt: new Date((exp as number) * 1_000),
    });
  }
}

/**
 * jose's failures as AuthenticationErrors, in our words: its messages can quote claim
 * values, and a caller gets no more than it needs to fix its token. Anything that is not a
 * JOSE error is a bug and is rethrown.
 */
function joseFailure(error: unknown): VerifyOutcome {
  if (!(error instanceof errors.JOSEError)) throw error;
  if (error instanceof errors.JWTExpired) return err({ code: 'expired_credentials' });
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return invalid('the token is not valid yet (nbf)');
    if (error.reason === 'missing') return invalid(`claim "${error.claim}" is required`);
    return invalid(`claim "${error.claim}" is not accepted`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return invalid('the token\'s algorithm is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('signature verification failed');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return invalid('no configured key matches the token');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return err({ code: 'malformed_credentials', message: 'not a well-formed JWT' });
  return invalid('the token was refused');
}
