import type { AuthenticationError, Scope } from '../../application/auth/principal.js';
import { isScope } from '../../application/auth/principal.js';
import { isCustomerId } from '../../domain/ids.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';

/**
 * What a token may claim, shared by the verifier and the issuer so that the CLI can never
 * mint a token the service would refuse.
 */

/** Clocks of the issuer and the service may disagree by this much. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Longest lifetime (exp - iat) accepted. A JWT cannot be revoked; thirty days bounds the
 * damage of a leaked one. Longer-lived machine credentials are API keys, which can be.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 30 * 24 * 3_600;

/**
 * `sub` becomes the actor recorded in events and logs: printable ASCII without spaces,
 * bounded, so that it cannot forge log lines or bloat every event.
 */
const SUBJECT = /^[\x21-\x7e]{1,200}$/;
export const isValidSubject = (sub: string): boolean => SUBJECT.test(sub);

type Invalid = Extract<AuthenticationError, { code: 'invalid_credentials' }>;
const invalid = (message: string): { readonly ok: false; readonly error: Invalid } => err({ code: 'invalid_credentials', message });

/**
 * The scopes of a token: `scope` (OAuth's space-separated string) and/or `scopes` (an
 * array), united. An unknown scope makes the whole token invalid rather than being
 * dropped: a typo in a grant should fail loudly at the first call, not silently deny.
 */
export function scopesFromClaims(payload: Readonly<Record<string, unknown>>): Result<ReadonlySet<Scope>, Invalid> {
  const names: string[] = [];
  const { scope, scopes } = payload;
  if (scope !== undefined) {
    if (typeof scope !== 'string') return invalid('claim "scope" must be a space-separated string');
    names.push(...scope.split(' ').filter((s) => s !== ''));
  }
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || !scopes.every((s): s is string => typeof s === 'string')) return invalid('claim "scopes" must be an array of strings');
    names.push(...scopes);
  }
  const set = new Set<Scope>();
  for (const name of names) {
    if (!isScope(name)) return invalid(`unknown scope "${name.slice(0, 40)}"`);
    set.add(name);
  }
  if (set.size === 0) return invalid('the token grants no scope');
  return ok(set);
}

/** `customerId` absent or null: not customer-scoped. Anything else must be a valid customer id. */
export function customerFromClaims(payload: Readonly<Record<string, unknown>>): Result<string | null, Invalid> {
  const { customerId } = payload;
  if (customerId === undefined || customerId === null) return ok(null);
  if (typeof customerId !== 'string' || !isCustomerId(customerId)) return invalid('claim "customerId" is not a valid customer id');
  return ok(customerId);
}

/**
 * Grants that make sense together. `admin` implies every scope and acts on the whole
 * service (keys, projections), which a credential limited to one customer must not do.
 */
export function checkGrant(scopes: ReadonlySet<Scope>, customerId: string | null): string | null {
  if (customerId !== null && scopes.has('admin')) return 'a customer-scoped credential cannot have the admin scope';
  return null;
}
