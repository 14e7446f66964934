import { formatPosition } from '../../../src/application/ports/position.js';
import { ProjectionRunner } from '../../../src/projections/runner.js';
import type { InMemoryEventStore } from './in-memory-event-store.js';
import type { InMemoryProjectionStore } from './in-memory-projection-store.js';

/** Runners with short retry pauses, for unit tests; `stopAll` in afterEach stops every one made. */
export function unitRunners(): { runner: (...args: ConstructorParameters<typeof ProjectionRunner>) => ProjectionRunner; stopAll: () => Promise<void> } {
  const made: ProjectionRunner[] = [];
  return {
    runner(deps, options) {
      const r = new ProjectionRunner(deps, { leaseRetryMs: 20, maxBackoffMs: 50, ...options });
      made.push(r);
      return r;
    },
    stopAll: async () => {
      await Promise.all(made.splice(0).map((r) => r.stop()));
    },
  };
}

/** The position of the log's last event, as text. */
export const head = (events: InMemoryEventStore): string => formatPosition(events.events[events.events.length - 1]!.position);

/** A projection's stored checkpoint, as text; undefined before it is registered. */
export const checkpointOf = (store: InMemoryProjectionStore, name: string): string | undefined => {
  const r = store.records.get(name);
  return r ? formatPosition(r.checkpoint) : undefined;
};
