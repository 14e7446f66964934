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

  it('rebuilds several projections in one pass over the log, each read page applied to all, each with its own outcome', async () => {
    const events = new InMemoryEventStore();
    await appendMany(events, 35, (i) => (i % 3 === 0 ? 'Other' : 'TestEvent'));
    let pageReads = 0;
    const readAll = events.readAll.bind(events);
    events.readAll = (options) => {
      pageReads += 1;
      return readAll(options);
    };
    const store = new InMemoryProjectionStore();
    const one = recordingProjection('one', { eventTypes: ['TestEvent'] });
    const two = recordingProjection('two', { eventTypes: ['TestEvent', 'Other'] });
    const broken = recordingProjection('broken', { eventTypes: ['Other'] });
    const poison = events.events[18];
    broken.failOn = (e) => e.id === poison?.id;
    const rebuilder = new ProjectionRebuilder({ eventStore: events, store, projections: [one, two, broken] }, { batchSize: 10, progressIntervalMs: 0 });

    const [a, b, c, unknown] = await rebuilder.rebuildMany(['one', 'two', 'broken', 'nope']);

    expect(a?.ok && a.value.processed).toBe(35);
    expect(b?.ok && b.value.processed).toBe(35);
    expect(c).toMatchObject({ ok: false, error: { code: 'handler_failed', name: 'broken', eventId: poison?.id } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_projection', name: 'nope' } });
    expect(store.appliedIds('rm_one')).toEqual(events.events.filter((e) => e.type === 'TestEvent').map((e) => e.id));
    expect(store.appliedIds('rm_two')).toEqual(events.events.map((e) => e.id));
    // Four pages of at most 10 read once for all three in phase 1; then each catch-up looks once more.
    expect(pageReads).toBeLessThanOrEqual(4 + 2);
  });
});
