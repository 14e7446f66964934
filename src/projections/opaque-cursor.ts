/*
 * List cursors are small JSON bodies in base64url, so callers treat them as opaque and the
 * service can change what is inside without breaking anyone who follows the rules. Each
 * listing checks the body it gets back (see id-cursor.ts, ledger/ledger-queries.ts).
 */

/** A longer cursor is not one we issued; refusing it early bounds the work. */
const MAX_CURSOR_LENGTH = 200;

export const encodeOpaqueCursor = (body: object): string => Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');

/** The cursor's body, or undefined for anything that is not base64url JSON of an object. */
export function decodeOpaqueCursor(cursor: string): Readonly<Record<string, unknown>> | undefined {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}
