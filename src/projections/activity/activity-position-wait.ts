import type { ActivityFeedStore } from '../../application/ports/activity-feed.js';
import type { Position } from '../../application/ports/position.js';
import { comparePositions } from '../../application/ports/position.js';
import { sleep } from '../../application/support/timing.js';

/** How often a `?minPosition=` wait re-reads the feed's checkpoint (a cheap read by key). */
export const ACTIVITY_WAIT_POLL_MS = 50;

/**
 * Read-your-writes for the activity feed: true once the feed's live checkpoint is at or
 * past `position`, false after `timeoutMs`. The feed has its own checkpoint (not the
 * projection store's), so the CheckpointWaiter cannot serve it; a poll can, bounded by the
 * caller's deadline (at most 5 s, docs/architecture.md, "Projections").
 */
export async function waitForActivityPosition(feed: Pick<ActivityFeedStore, 'state'>, position: Position, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (comparePositions((await feed.state()).checkpoint, position) >= 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(ACTIVITY_WAIT_POLL_MS, left));
  }
}
