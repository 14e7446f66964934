import { isIPv6 } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthenticationError, Principal, Scope } from '../../application/auth/principal.js';
import { hasScope } from '../../application/auth/principal.js';
import type { Result } from '../../domain/result.js';
import { err } from '../../domain/result.js';
import type { HttpDeps, RateLimitState } from './deps.js';
import { HttpProblem } from './problem.js';
import { setRateLimitHeaders } from './rate-limit.js';
import { contextOf, requestIdOf } from './request-context.js';

/*
 * Authentication and authorization for the HTTP layer. `authenticate` runs before every
 * /v1 route (and /metrics when protected): it turns `Authorization: Bearer <token>` into
 * a Principal kept on res.locals, applies the rate limits, and answers 401 or 429 itself.
 * Routes then ask for a scope (`requireScope`) and read the principal (`principalOf`).
 */

export const AUTH_REALM = 'ledger';

// ---- the principal on res.locals ----------------------------------------------------

const PRINCIPAL_LOCAL = 'ledgerPrincipal';

export function setPrincipal(res: Response, principal: Principal): void {
  (res.locals as Record<string, unknown>)[PRINCIPAL_LOCAL] = principal;
}

/** The authenticated caller, or undefined before (or without) authentication. */
export const maybePrincipalOf = (res: Response): Principal | undefined =>
  (res.locals as Record<string, unknown>)[PRINCIPAL_LOCAL] as Principal | undefined;

/** The authenticated caller of a route behind `authenticate`. */
export function principalOf(res: Response): Principal {
  const principal = maybePrincipalOf(res);
  if (!principal) throw new Error('no principal: the route is not behind authenticate()');
  return principal;
}

/**
 * Who is acting, for a command's metadata and its idempotency records: the principal's
 * stable id (`key:<api key id>`, `jwt:<sub>`). The one place a request becomes an actor.
 */
export const actorOf = (res: Response): string => principalOf(res).actor;

/** The customer a customer-scoped credential is confined to; null for an unscoped one. */
export const customerScopeOf = (res: Response): string | null => principalOf(res).customerId;

// ---- the Authorization header -------------------------------------------------------

/** JWTs and API keys are far shorter; a longer token is not one we issued. */
export const MAX_TOKEN_LENGTH = 4096;

/** RFC 6750 `b64token`: the characters a bearer token may have. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export type AuthorizationHeader =
  | { readonly kind: 'absent' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'malformed'; readonly message: string };

export function parseAuthorization(header: string | undefined): AuthorizationHeader {
  if (header === undefined || header.trim() === '') return { kind: 'absent' };
  const match = BEARER.exec(header.trim());
  if (!match) return { kind: 'malformed', message: 'must be "Bearer <token>"' };
  const token = match[1] as string;
  if (token.length > MAX_TOKEN_LENGTH) return { kind: 'malformed', message: 'token too long' };
  return { kind: 'bearer', token };
}

// ---- client addresses -------------------------------------------------------------

function expandIPv6(address: string): string[] | undefined {
  const [head, tail, ...rest] = address.split('::');
  if (rest.length > 0 || head === undefined) return undefined;
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  if (fill < 0) return undefined;
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right];
  return groups.length === 8 ? groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')) : undefined;
}

/**
 * The key unauthenticated requests are limited by. IPv4 (also mapped into IPv6) is the
 * address; IPv6 is its /64, which one client usually holds whole, so hopping between its
 * addresses does not buy more guesses.
 */
export function clientKeyOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address) || address.includes('.')) return address;
  const groups = expandIPv6(address.split('%')[0] ?? address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

// ---- problems -----------------------------------------------------------------------

/** A WWW-Authenticate challenge (RFC 6750 §3); descriptions are fixed ASCII without quotes. */
export function bearerChallenge(params: { error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope'; description?: string; scope?: string } = {}): string {
  const parts = [`realm="${AUTH_REALM}"`];
  if (params.error) parts.push(`error="${params.error}"`);
  if (params.description) parts.push(`error_description="${params.description}"`);
  if (params.scope) parts.push(`scope="${params.scope}"`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * 401 for each way authentication fails. The client learns what to fix, never why a token
 * failed in detail (unknown key or wrong secret look the same), and the authenticator's
 * own message stays out of the response.
 */
export function unauthorizedProblem(error: AuthenticationError): HttpProblem {
  const problem = (detail: string, challenge: string): HttpProblem =>
    new HttpProblem({ code: 'unauthorized', detail, extensions: { reason: error.code }, headers: { 'www-authenticate': challenge } });
  switch (error.code) {
    case 'missing_credentials':
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      return problem('This endpoint needs a credential: send Authorization: Bearer <token>.', bearerChallenge());
    case 'malformed_credentials':
      return problem(
        'The Authorization header must be "Bearer <token>".',
        bearerChallenge({ error: 'invalid_request', description: 'The Authorization header must be Bearer followed by a token' }),
      );
    case 'invalid_credentials':
      return problem('The bearer token is not valid.', bearerChallenge({ error: 'invalid_token', description: 'The token is not valid' }));
    case 'expired_credentials':
      return problem('The bearer token has expired; get a new one.', bearerChallenge({ error: 'invalid_token', description: 'The token has expired' }));
    case 'revoked_credentials':
      return problem('The bearer token has been revoked.', bearerChallenge({ error: 'invalid_token', description: 'The token has been revoked' }));
  }
}

export const rateLimitedProblem = (state: RateLimitState, detail: string): HttpProblem =>
  new HttpProblem({ code: 'rate_limited', detail, retryAfterSeconds: state.resetSeconds, extensions: { limit: state.limit, windowSeconds: state.windowSeconds } });

// ---- middleware -----------------------------------------------------------------------

type AuthDeps = Pick<HttpDeps, 'authenticator' | 'rateLimiter' | 'clock' | 'logger' | 'metrics'>;

/**
 * Authenticates the request and applies the rate limits, in this order:
 *
 * 1. A client address that has used up its allowance of failed authentications is
 *    refused (429) before its credentials are looked at, so a guess made while limited
 *    can never be told apart from a wrong one. (A valid credential from that address
 *    waits too; behind a proxy, set `trustProxy` so the address is the client's.)
 * 2. The token is authenticated. A failure counts against the address and is a 401.
 * 3. The principal's own allowance is counted; spent, it is a 429.
 *
 * Every answer past step 1 carries RateLimit-* headers for the allowance it drew on.
 */
export function authenticate(deps: AuthDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const clientKey = clientKeyOf(req.ip ?? req.socket.remoteAddress);
    const guard = await deps.rateLimiter.peek('unauthenticated', clientKey);
    if (!guard.allowed) {
      setRateLimitHeaders(res, guard);
      contextOf(req).authFailure = 'rate_limited';
      deps.metrics.countRateLimitRefusal('unauthenticated');
      throw rateLimitedProblem(guard, 'Too many requests with missing or invalid credentials from this address; retry after Retry-After seconds.');
    }

    const header = parseAuthorization(req.get('authorization'));
    let result: Result<Principal, AuthenticationError>;
    if (header.kind === 'malformed') {
      result = err({ code: 'malformed_credentials', message: header.message });
    } else {
      const now = deps.clock.now();
      try {
        result = await deps.authenticator.authenticate(header.kind === 'bearer' ? header.token : undefined, now);
      } catch (error) {
        deps.logger.error({ requestId: requestIdOf(req), err: error }, 'authenticator failed');
        throw new HttpProblem({ code: 'authentication_unavailable', detail: 'Credentials cannot be checked right now; retry the request.', retryAfterSeconds: 1 });
      }
      // The authenticator checks expiry; this makes sure a principal past it never acts.
      if (result.ok && result.value.expiresAt !== null && result.value.expiresAt.getTime() <= now.getTime()) {
        result = err({ code: 'expired_credentials' });
      }
    }

    if (!result.ok) {
      contextOf(req).authFailure = result.error.code;
      const failures = await deps.rateLimiter.consume('unauthenticated', clientKey);
      setRateLimitHeaders(res, failures);
      if (!failures.allowed) {
        deps.metrics.countRateLimitRefusal('unauthenticated');
        throw rateLimitedProblem(failures, 'Too many requests with missing or invalid credentials from this address; retry after Retry-After seconds.');
      }
      throw unauthorizedProblem(result.error);
    }

    const principal = result.value;
    setPrincipal(res, principal);
    const allowance = await deps.rateLimiter.consume('credential', principal.actor);
    setRateLimitHeaders(res, allowance);
    if (!allowance.allowed) {
      deps.metrics.countRateLimitRefusal('credential');
      throw rateLimitedProblem(allowance, 'This credential has used up its request allowance; retry after Retry-After seconds.');
    }
    next();
  };
}

/** 403 unless the principal has `scope` (admin has every scope). */
export function requireScope(scope: Scope): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (hasScope(principalOf(res), scope)) {
      next();
      return;
    }
    next(
      new HttpProblem({
        code: 'insufficient_scope',
        detail: `This needs a credential with the ${scope} scope.`,
        extensions: { requiredScope: scope },
        headers: { 'www-authenticate': bearerChallenge({ error: 'insufficient_scope', description: `Needs the ${scope} scope`, scope }) },
      }),
    );
  };
}

/**
 * Operator endpoints (/v1/admin/**, a protected /metrics): the admin scope, on a credential
 * that is not confined to one customer (those never see data across customers).
 */
export const requireOperator: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
  requireScope('admin')(req, res, (error?: unknown) => {
    if (error !== undefined) {
      next(error);
      return;
    }
    if (principalOf(res).customerId !== null) {
      next(new HttpProblem({ code: 'forbidden', detail: 'A customer-scoped credential cannot use operator endpoints.' }));
      return;
    }
    next();
  });
};
