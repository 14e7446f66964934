import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/application/ports/position.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { InMemoryEventStore, appendMany, testEvent } from './support/in-memory-event-store.js';
import { InMemoryProjectionStore } from './support/in-memory-projection-store.js';
import { recordingProjection } from './support/test-projections.js';

/** A log that grows by one event every time anyone asks for its head: a steady trickle of writes. */
class TricklingEventStore extends InMemoryEventStore {
  headReads = 0;

  override async headPosition(): Promise<Position | undefined> {
    this.headReads += 1;
    await this.append(`trickle-${this.headReads}`, [testEvent('TestEvent')], 'no_stream');
    return super.headPosition();
  }
}

describe('ProjectionRebuilder', () => {
  it('stops chasing a head that keeps moving after MAX_HEAD_REFRESHES refreshes, leaving the rest to the locked phase', async () => {
    const events = new TricklingEventStore();
    await appendMany(events, 25, 'TestEvent');
    const store = new InMemoryProjectionStore();
    const projection = recordingProjection('trickled', { eventTypes: ['TestEvent'] });
    await store.register(projection);
    const rebuilder = new ProjectionRebuilder({ eventStore: events, store, projections: [projection] }, { batchSize: 10, progressIntervalMs: 0 });

    const result = await rebuilder.rebuild('trickled');

    expect(result.ok).toBe(true);
    // The first read, then three refreshes; without the limit this rebuild would never end.
    expect(events.headReads).toBe(4);
    expect(result.ok && result.value.processed).toBe(29);
    expect(store.appliedIds('rm_trickled')).toEqual(events.events.slice(0, 29).map((e) => e.id));
  });
});
