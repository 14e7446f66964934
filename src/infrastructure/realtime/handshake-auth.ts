import type { Authenticator } from '../../application/auth/authenticator.js';
import type { AuthenticationError, Principal } from '../../application/auth/principal.js';
import type { Clock } from '../../application/ports/clock.js';
import { withTimeout } from '../../application/support/timing.js';
import { errorFields, type RealtimeLogger } from './logger.js';
import type { RealtimeSocket } from './realtime-hub.js';

/** Longest `auth.token` passed to the authenticator; a longer one is refused as malformed. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** How long the handshake waits for the authenticator before refusing with `unavailable`. */
export const AUTHENTICATE_TIMEOUT_MS = 5_000;

/** What the client's `connect_error` carries: `message` is `<code>: <explanation>`, `data` this. */
export interface ConnectErrorData {
  readonly code: 'unauthorized' | 'unavailable';
  /** For `unauthorized`: the authenticator's reason (`expired_credentials`, …). */
  readonly reason?: AuthenticationError['code'];
}

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    message: string,
    readonly data: ConnectErrorData,
  ) {
    super(message);
  }
}

// Deliberately terse: the authenticator's own message (why a signature failed, …) stays in the log.
const REASONS: Record<AuthenticationError['code'], string> = {
  missing_credentials: 'a token is required in the handshake (auth: { token })',
  malformed_credentials: 'malformed token',
  invalid_credentials: 'invalid token',
  expired_credentials: 'token expired',
  revoked_credentials: 'token revoked',
};

const unauthorized = (reason: AuthenticationError['code']): ConnectError =>
  new ConnectError(`unauthorized: ${REASONS[reason]}`, { code: 'unauthorized', reason });

/** Whether `principal`'s credential has expired at `now`. An invalid date counts as expired. */
export const isExpired = (principal: Principal | undefined, now: Date): boolean =>
  principal?.expiresAt != null && !(principal.expiresAt.getTime() > now.getTime());

export interface HandshakeAuthOptions {
  readonly authenticator: Authenticator;
  readonly clock: Clock;
  readonly logger: RealtimeLogger;
  readonly maxTokenLength?: number;
  readonly timeoutMs?: number;
}

type Middleware = (socket: RealtimeSocket, next: (err?: Error) => void) => void;

/**
 * The Socket.IO middleware that authenticates every connection, reconnections included:
 * `socket.handshake.auth.token` goes to the authenticator and the Principal it returns is
 * kept on `socket.data.principal`. A refusal reaches the client as `connect_error`, whose
 * message starts with `unauthorized` or `unavailable`; Socket.IO does not retry it by itself.
 */
export function handshakeAuthentication(options: HandshakeAuthOptions): Middleware {
  const maxLength = options.maxTokenLength ?? MAX_TOKEN_LENGTH;
  const timeoutMs = options.timeoutMs ?? AUTHENTICATE_TIMEOUT_MS;
  return (socket, next) => {
    authenticate(socket).then(
      ({ principal, token }) => {
        socket.data.principal = principal;
        if (principal.kind === 'api_key' && token !== undefined) {
          // API keys do not expire but can be revoked: the hub asks again from time to time.
          socket.data.revalidate = async () => (await withTimeout(options.authenticator.authenticate(token, options.clock.now()), timeoutMs, 'the authenticator')).ok;
        }
        next();
      },
      (error: unknown) => {
        if (error instanceof ConnectError) {
          options.logger.debug({ socket: socket.id, reason: error.data.reason }, 'realtime: handshake refused');
          return next(error);
        }
        options.logger.warn({ socket: socket.id, ...errorFields(error) }, 'realtime: authenticating a handshake failed');
        next(new ConnectError('unavailable: could not check the token; retry shortly', { code: 'unavailable' }));
      },
    );
  };

  async function authenticate(socket: RealtimeSocket): Promise<{ principal: Principal; token: string | undefined }> {
    const auth: unknown = socket.handshake.auth;
    const token: unknown = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    if (token !== undefined && typeof token !== 'string') throw unauthorized('malformed_credentials');
    if (token !== undefined && token.length > maxLength) throw unauthorized('malformed_credentials');
    const now = options.clock.now();
    const result = await withTimeout(options.authenticator.authenticate(token === '' ? undefined : token, now), timeoutMs, 'the authenticator');
    if (!result.ok) {
      if ('message' in result.error) options.logger.debug({ socket: socket.id, reason: result.error.code, detail: result.error.message }, 'realtime: token refused');
      throw unauthorized(result.error.code);
    }
    // The authenticator should have said so; checked here too, as on every subscribe.
    if (isExpired(result.value, options.clock.now())) throw unauthorized('expired_credentials');
    return { principal: result.value, token: token === '' ? undefined : token };
  }
}
