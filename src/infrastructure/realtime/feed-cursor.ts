import type { FeedChange, FeedRead } from './change-feed-sql.js';

/**
 * Why the tailer cannot simply take "id > last": identity values are handed out when a
 * row is inserted, not when its transaction commits. With two writers (two projections,
 * each with its own runner) transaction A can take id 10, B id 11, and B commit first; a
 * reader that saw 11 and moved on would never deliver 10. So ids above `last` are only
 * delivered without a hole before them, and a hole is closed one of two ways:
 *
 * - its row shows up (the slow transaction committed), or
 * - we can prove it never will. The proof is a *witness*: the snapshot of the read in
 *   which we first saw a row above the hole. Any transaction holding a lower id took it
 *   before that row's transaction took its own, so it was already running at the
 *   witness; once every transaction listed as running in the witness has finished (judged
 *   in the same snapshot as the read, so a commit cannot slip between the check and the
 *   read) and the row is still not visible, it was rolled back (or its id was burnt by a
 *   crash).
 *
 * `graceMs` covers the one case the witness cannot see: a transaction that drew its id
 * but had not yet been assigned a transaction id when the witness was taken (a few
 * microseconds between nextval and the heap insert). `maxWaitMs` caps how long a hole can
 * hold back everyone else, e.g. behind a transaction left open for minutes; skipping then
 * is logged as an error, and subscribers can still recover the row with `since`.
 */

export interface Witness {
  readonly snapshot: string;
  /** Holes below this id are covered: the witness saw a row with this id. */
  readonly coversId: bigint;
  readonly seenAt: number;
}

export interface GapPolicy {
  readonly graceMs: number;
  readonly maxWaitMs: number;
}

export interface SkippedRange {
  readonly from: bigint;
  readonly to: bigint;
  /** True when skipped on maxWaitMs rather than proven empty. */
  readonly forced: boolean;
}

export interface Advance {
  /** In id order; the caller hands these out and sets its cursor to the last one's id. */
  readonly deliver: readonly FeedChange[];
  readonly lastId: bigint;
  readonly witness: Witness | undefined;
  readonly skipped: readonly SkippedRange[];
  /** Stopped at a hole that is not closed yet: read again soon. */
  readonly blocked: boolean;
}

/** Decides which of `read`'s rows may be delivered after `lastId`. Pure. */
export function advance(lastId: bigint, read: FeedRead, witness: Witness | undefined, now: number, policy: GapPolicy): Advance {
  const deliver: FeedChange[] = [];
  const skipped: SkippedRange[] = [];
  let last = lastId;
  let current = witness;

  for (const change of read.changes) {
    if (change.id <= last) continue; // cannot happen with "id > last"; harmless if it does
    if (change.id !== last + 1n) {
      const covered = current !== undefined && change.id <= current.coversId;
      if (!covered || current === undefined) {
        // A hole the current witness (if any) cannot speak for: this read becomes the witness.
        const newest = read.changes[read.changes.length - 1]?.id ?? change.id;
        return { deliver, lastId: last, witness: { snapshot: read.snapshot, coversId: newest, seenAt: now }, skipped, blocked: true };
      }
      const waited = now - current.seenAt;
      const proven = read.witnessSettled && waited >= policy.graceMs;
      if (!proven && waited < policy.maxWaitMs) {
        return { deliver, lastId: last, witness: current, skipped, blocked: true };
      }
      skipped.push({ from: last + 1n, to: change.id - 1n, forced: !proven });
    }
    deliver.push(change);
    last = change.id;
  }

  if (current !== undefined && last >= current.coversId) current = undefined;
  return { deliver, lastId: last, witness: current, skipped, blocked: false };
}
