import type { Result } from '../../domain/result.js';
import type { AuthenticationError, Principal } from './principal.js';

/** Turns the bearer token of an `Authorization` header or a Socket.IO handshake into a Principal. */
export interface Authenticator {
  authenticate(bearerToken: string | undefined, now: Date): Promise<Result<Principal, AuthenticationError>>;
}
