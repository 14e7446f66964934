import { isPaymentId } from '../../domain/ids.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../opaque-cursor.js';

/*
 * A list cursor is the id of the last payment (or refund) on the page (ids are time-ordered, so
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
export const decodeCursor = (cursor: string): string | undefined => decodeCursorOf(cursor, isPaymentId);

/**
 * The same for any listing keyed by time-ordered ids (refunds): `isId` says which kind of id
 * this listing walks, so a cursor of another listing is refused rather than misread.
 */
export function decodeCursorOf(cursor: string, isId: (value: string) => boolean): string | undefined {
  const body = decodeOpaqueCursor(cursor);
  if (!body) return undefined;
  const { v, before } = body as Partial<Record<keyof CursorBody, unknown>>;
  if (v !== 1 || typeof before !== 'string' || !isId(before)) return undefined;
  return before;
}
