/**
 * Who is calling and what they may do. Built by the authenticator from a bearer token
 * (a JWT or an API key); everything past authentication decides from this alone.
 */
export const SCOPES = [
  'payments:write',
  'payments:read',
  'refunds:write',
  'subscriptions:write',
  'subscriptions:read',
  'ledger:read',
  'reports:read',
  'webhooks:manage',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

export interface Principal {
  /** Stable id of the caller: `key:<api key id>` or `jwt:<sub>`. Recorded as the events' actor. */
  readonly actor: string;
  readonly kind: 'api_key' | 'jwt';
  readonly scopes: ReadonlySet<Scope>;
  /** Present on a customer-scoped token: it sees only this customer's data. */
  readonly customerId: string | null;
  /** When the credential stops being valid (JWT exp); null for API keys, which are revoked instead. */
  readonly expiresAt: Date | null;
}

/** `admin` implies every scope. */
export const hasScope = (p: Principal, scope: Scope): boolean => p.scopes.has(scope) || p.scopes.has('admin');

/** Whether `p` may see data belonging to `customerId`. */
export const canSeeCustomer = (p: Principal, customerId: string): boolean => p.customerId === null || p.customerId === customerId;

export type AuthenticationError =
  | { readonly code: 'missing_credentials' }
  | { readonly code: 'malformed_credentials'; readonly message: string }
  | { readonly code: 'invalid_credentials'; readonly message: string }
  | { readonly code: 'expired_credentials' }
  | { readonly code: 'revoked_credentials' };
