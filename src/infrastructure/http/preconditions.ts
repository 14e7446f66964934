import type { StreamRevision } from '../../application/ports/event-store.js';
import { streamRevision } from '../../application/ports/event-store.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';

/** The strong ETag of a payment: its stream revision, quoted. */
export const etagFor = (revision: bigint | string): string => `"${revision.toString()}"`;

const MAX_REVISION = (1n << 63n) - 1n;
const STRONG_ETAG = /^"(\d{1,19})"$/;

/**
 * If-Match, as a command's expected revision. Absent or `*` pin nothing (`*` only says
 * "the payment exists", which the command checks anyway). We issue exactly one strong
 * ETag per payment, so anything else — a list, a weak tag, an unquoted number — is a
 * client bug worth a 400 rather than a guess.
 */
export function parseIfMatch(header: string | undefined): Result<StreamRevision | undefined, string> {
  if (header === undefined) return ok(undefined);
  const value = header.trim();
  if (value === '*') return ok(undefined);
  if (value.startsWith('W/')) return err('must be a strong ETag; weak ETags cannot be used with If-Match');
  const m = STRONG_ETAG.exec(value);
  if (!m) return err('must be one ETag as returned by the API, e.g. "3" (with the quotes)');
  const revision = BigInt(m[1] as string);
  if (revision > MAX_REVISION) return err('revision out of range');
  return ok(streamRevision(revision));
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** Idempotency-Key: 1..255 printable ASCII characters. Undefined when absent. */
export function parseIdempotencyKey(header: string | undefined): Result<string | undefined, string> {
  if (header === undefined) return ok(undefined);
  if (!IDEMPOTENCY_KEY.test(header)) return err('must be 1 to 255 printable ASCII characters');
  return ok(header);
}
