import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted (by UTF-16 code unit) at every depth and no whitespace,
 * so two bodies that mean the same thing hash the same whatever their key order or
 * formatting. Input is what JSON.parse produced, so numbers are already normalised
 * (`1.0` and `1` are the same number) and there is nothing that JSON cannot express.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // JSON.stringify(undefined) is undefined; callers pass {} for an absent body, so this is only a guard.
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

export interface FingerprintedRequest {
  readonly method: string;
  /** Path only, no query string: `/v1/payments/pay_…/capture`. */
  readonly path: string;
  /** If-Match changes what the command means, so a retry must carry the same one. */
  readonly ifMatch: string | undefined;
  readonly body: unknown;
  /**
   * The customer a customer-scoped credential acts for. Two tokens of one subject for
   * different customers share an actor, so the key alone would let one replay what the
   * other created; bound to the scope, that is a mismatch instead.
   */
  readonly customerScope?: string | null | undefined;
}

/**
 * What an Idempotency-Key is bound to: SHA-256 of the canonical JSON array
 * [method, path, If-Match, body] (and `{customerScope}` after them for a customer-scoped
 * caller, so unscoped fingerprints are unchanged). An array, not concatenated text, so no
 * content can move from one part to another and still hash the same.
 */
export function requestFingerprint(request: FingerprintedRequest): string {
  const parts: unknown[] = [request.method.toUpperCase(), request.path, request.ifMatch ?? null, request.body];
  if (request.customerScope) parts.push({ customerScope: request.customerScope });
  return createHash('sha256').update(canonicalJson(parts), 'utf8').digest('hex');
}
