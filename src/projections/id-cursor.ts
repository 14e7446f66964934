import { decodeOpaqueCursor, encodeOpaqueCursor } from './opaque-cursor.js';

/*
 * The cursor of a listing keyed by time-ordered ids (payments, refunds): the id of the last
 * item on the page ("id < cursor" is "older than"), wrapped so callers treat it as opaque
 * and we can change what is inside without breaking anyone who follows the rules.
 */

interface CursorBody {
  readonly v: 1;
  readonly before: string;
}

export function encodeIdCursor(lastId: string): string {
  const body: CursorBody = { v: 1, before: lastId };
  return encodeOpaqueCursor(body);
}

/**
 * The id to continue before, or undefined for anything we did not issue. `isId` says which
 * kind of id this listing walks, so a cursor of another listing is refused rather than misread.
 */
export function decodeIdCursor(cursor: string, isId: (value: string) => boolean): string | undefined {
  const body = decodeOpaqueCursor(cursor);
  if (!body) return undefined;
  const { v, before } = body as Partial<Record<keyof CursorBody, unknown>>;
  if (v !== 1 || typeof before !== 'string' || !isId(before)) return undefined;
  return before;
}
