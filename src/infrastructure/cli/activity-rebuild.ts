import { randomUUID } from 'node:crypto';
import type { Container } from 'inversify';
import { formatPosition } from '../../application/ports/position.js';
import { rebuildActivityFeed } from '../../projections/activity/activity-feed-runner.js';
import { TOKENS } from '../container/tokens.js';
import { EXIT_FAILED, EXIT_OK, oneLine } from './exit.js';

/** The feed's generation scheme has no version of its own; the audit trail records this. */
const ACTIVITY_FEED_VERSION = 1;
const PROGRESS_EVERY_EVENTS = 10_000;

/**
 * `ledger projections rebuild activity`: the activity feed is not a PostgreSQL projection
 * (it lives in MongoDB, or in PostgreSQL JSONB behind the same port), so it has its own
 * rebuild: replay the log into a fresh generation (a new collection), then switch the live
 * pointer. The live runner carries on from the new generation's checkpoint.
 */
export async function rebuildActivityFeedCommand(c: Container, actor: string): Promise<number> {
  const feed = c.get(TOKENS.ActivityFeed);
  try {
    await feed.prepare();
    let reported = 0;
    const summary = await rebuildActivityFeed(
      { eventStore: c.get(TOKENS.EventStore), feed, leases: c.get(TOKENS.ProjectionStore) },
      {
        holder: `cli:${actor}`,
        onProgress: (events, at) => {
          if (events - reported < PROGRESS_EVERY_EVENTS) return;
          reported = events;
          process.stderr.write(`activity: ${events} events replayed (at ${formatPosition(at)})\n`);
        },
      },
    );
    if (!summary) {
      console.error('ledger: rebuild of activity refused: a rebuild of it is already running');
      return EXIT_FAILED;
    }
    console.log(JSON.stringify({ name: 'activity', ...summary }, null, 2));
    try {
      await c.get(TOKENS.AuditLog).record(
        { type: 'ProjectionRebuilt', data: { projection: 'activity', version: ACTIVITY_FEED_VERSION, checkpoint: summary.checkpoint, processed: summary.events } },
        actor,
        randomUUID(),
      );
    } catch (error) {
      console.error(`ledger: rebuild of activity finished, but its audit event could not be recorded: ${oneLine((error as Error).message)}`);
      return EXIT_FAILED;
    }
    return EXIT_OK;
  } finally {
    await feed.close();
  }
}
