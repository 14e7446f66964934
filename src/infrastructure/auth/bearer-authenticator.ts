import type { Authenticator } from '../../application/auth/authenticator.js';
import type { AuthenticationError, Principal } from '../../application/auth/principal.js';
import type { Result } from '../../domain/result.js';
import { err } from '../../domain/result.js';
import { API_KEY_PREFIX } from './api-key-format.js';

/** Verifies one kind of credential. */
export interface CredentialVerifier {
  verify(token: string, now: Date): Promise<Result<Principal, AuthenticationError>>;
}

export interface BearerAuthenticatorOptions {
  /** Longer tokens are refused before any parsing. Default 4 KiB. */
  readonly maxTokenLength?: number;
}

export const DEFAULT_MAX_TOKEN_LENGTH = 4_096;

// Three base64url segments; the signature may be empty so that `alg: none` reaches the
// verifier and is refused there with a reason, rather than looking like garbage.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^bearer(?:[ \t]+|$)/i;
/** Room for `Bearer ` and surrounding whitespace on top of the token itself. */
const SCHEME_ALLOWANCE = 64;

/**
 * The Authenticator: a bearer token is an API key when it starts with `lk_`, a JWT when it
 * has the shape of one, and malformed otherwise. Accepts the bare token (a Socket.IO
 * handshake's `auth.token`) or the whole `Authorization` value (`Bearer <token>`); any
 * other scheme is malformed. Never includes the token in an error.
 */
export class BearerAuthenticator implements Authenticator {
  readonly #maxLength: number;

  constructor(
    private readonly verifiers: { readonly jwt: CredentialVerifier | null; readonly apiKeys: CredentialVerifier | null },
    options: BearerAuthenticatorOptions = {},
  ) {
    this.#maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  }

  async authenticate(bearerToken: string | undefined, now: Date): Promise<Result<Principal, AuthenticationError>> {
    if (bearerToken === undefined) return err({ code: 'missing_credentials' });
    // Bound before any other work: a megabyte header must not cost a regex over a megabyte.
    if (bearerToken.length > this.#maxLength + SCHEME_ALLOWANCE) return malformed('the token is too long');
    const trimmed = bearerToken.trim();
    if (trimmed === '') return err({ code: 'missing_credentials' });
    const token = BEARER.test(trimmed) ? trimmed.replace(BEARER, '') : trimmed;
    if (token === '') return err({ code: 'missing_credentials' });
    if (token.length > this.#maxLength) return malformed('the token is too long');
    if (token.startsWith(API_KEY_PREFIX)) {
      return this.verifiers.apiKeys === null ? malformed('API keys are not accepted here') : this.verifiers.apiKeys.verify(token, now);
    }
    if (JWT_SHAPE.test(token)) {
      return this.verifiers.jwt === null ? malformed('JWTs are not accepted here') : this.verifiers.jwt.verify(token, now);
    }
    if (/\s/.test(token)) return malformed('expected "Bearer <token>"');
    return malformed('the token is neither an API key nor a JWT');
  }
}

function malformed(message: string): Result<Principal, AuthenticationError> {
  return err({ code: 'malformed_credentials', message });
}
