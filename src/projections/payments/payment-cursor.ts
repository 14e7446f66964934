import { isPaymentId } from '../../domain/ids.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../opaque-cursor.js';

/*
 * A list cursor is the id of the last payment on the page (ids are time-ordered, so
 * "id < cursor" is "older than"), wrapped so callers treat it as opaque and we can change
 * what is inside without breaking anyone who follows the rules.
 */

interface CursorBody {
  readonly v: 1;
  readonly before: string;
}

export function encodeCursor(lastId: string): string {
  const body: CursorBody = { v: 1, before: lastId };
  return encodeOpaqueCursor(body);
}

/** The id to continue before, or undefined for anything we did not issue. */
export function decodeCursor(cursor: string): string | undefined {
  const body = decodeOpaqueCursor(cursor);
  if (!body) return undefined;
  const { v, before } = body as Partial<Record<keyof CursorBody, unknown>>;
  if (v !== 1 || typeof before !== 'string' || !isPaymentId(before)) return undefined;
  return before;
}
