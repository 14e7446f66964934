import type { Clock } from '../../application/ports/clock.js';
import type { EventStore } from '../../application/ports/event-store.js';
import { parsePosition } from '../../application/ports/position.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import type { Projection } from '../../projections/projection.js';
import type { WorkerSnapshot } from '../../projections/projection-worker.js';
import type { ProjectionStatus } from '../../projections/status.js';
import { readProjectionStatuses } from '../../projections/status.js';
import type { ProjectionGaugeSample, ProjectionGaugeSource } from './metrics.js';

export interface ProjectionGaugeDeps {
  readonly store: ProjectionStore;
  readonly eventStore: EventStore;
  readonly projections: readonly Projection[];
  /** This instance's runner: whether it leads each projection. */
  readonly runner: { localState(): readonly WorkerSnapshot[] };
  readonly clock: Clock;
}

/**
 * Projection gauges for LedgerMetrics.watchProjections, read from the shared store (so
 * status and lag are the same whichever instance is scraped) and this instance's runner
 * (leadership).
 *
 * Lag in seconds is the age of the oldest event the projection has not applied: `now`
 * minus that event's recorded (commit) time. It is 0 when caught up, and it keeps growing
 * while a projection is stuck or stopped even when nothing new is written, which is what
 * an alert needs. ("Last applied vs head" would freeze at a small number in exactly that
 * case.) The recorded time is the store's, not the command's `occurredAt`: it measures the
 * read model's delay, not the client's. It costs one single-event read per lagging
 * projection per scrape.
 */
export function projectionGaugeSource(deps: ProjectionGaugeDeps): ProjectionGaugeSource {
  return async () => {
    const statuses = await readProjectionStatuses(deps);
    const local = new Map(deps.runner.localState().map((w) => [w.name, w]));
    const now = deps.clock.now();
    return Promise.all(statuses.map(async (status): Promise<ProjectionGaugeSample> => ({
      projection: status.name,
      status: status.status,
      lagEvents: status.lag,
      lagSeconds: await oldestUnappliedAgeSeconds(deps.eventStore, status, now),
      leader: local.get(status.name)?.leader ?? false,
    })));
  };
}

async function oldestUnappliedAgeSeconds(eventStore: EventStore, status: ProjectionStatus, now: Date): Promise<number> {
  if (status.lag === 0) return 0;
  const after = status.checkpoint === null ? undefined : parsePosition(status.checkpoint);
  const [oldest] = await eventStore.readAll({ after, maxCount: 1 });
  if (!oldest) return 0;
  return Math.max(0, (now.getTime() - oldest.recordedAt.getTime()) / 1000);
}
