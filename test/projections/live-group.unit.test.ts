import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventStore, appendMany } from './support/in-memory-event-store.js';
import { InMemoryProjectionStore } from './support/in-memory-projection-store.js';
import { eventually, recordingProjection } from './support/test-projections.js';
import { checkpointOf, head, unitRunners } from './support/unit-runners.js';

/*
 * Caught-up projections follow the log together (src/projections/live-group.ts): one
 * commit per batch for all of them, each still with its own checkpoint and its own fate.
 */

const { runner, stopAll } = unitRunners();

afterEach(stopAll);
const allAt = (store: InMemoryProjectionStore, names: readonly string[], events: InMemoryEventStore) => () => names.every((n) => checkpointOf(store, n) === head(events));

describe('projections that are caught up', () => {
  it('commit each live batch once for all of them, each applying only the events it handles', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const names = ['one', 'two', 'three'];
    const projections = names.map((n, i) => recordingProjection(n, { eventTypes: i === 2 ? ['OtherEvent'] : ['TestEvent'] }));
    await appendMany(events, 3, 'TestEvent');
    const r = runner({ eventStore: events, store, projections }, { batchSize: 100 });
    r.start();
    await eventually(allAt(store, names, events), 5_000, 'catch-up');

    // Let every worker settle into the group, then write more: one batch, one commit for all.
    await eventually(() => r.localState().every((s) => s.state === 'running'), 2_000, 'running');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = store.commits;
    await appendMany(events, 4, (i) => (i % 2 === 0 ? 'TestEvent' : 'OtherEvent'), 4);
    await eventually(allAt(store, names, events), 5_000, 'live batch');
    expect(store.commits - before).toBe(1);
    const byType = (type: string) => events.events.filter((e) => e.type === type).map((e) => e.id);
    expect(store.appliedIds('rm_one')).toEqual(byType('TestEvent'));
    expect(store.appliedIds('rm_two')).toEqual(byType('TestEvent'));
    expect(store.appliedIds('rm_three')).toEqual(byType('OtherEvent'));
  });

  it('stop one that fails at its event while the others go on, each event applied once', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const broken = recordingProjection('broken');
    const healthy = recordingProjection('healthy');
    await appendMany(events, 2, 'TestEvent');
    const r = runner({ eventStore: events, store, projections: [broken, healthy] }, { batchSize: 100 });
    r.start();
    await eventually(allAt(store, ['broken', 'healthy'], events), 5_000, 'catch-up');
    await new Promise((resolve) => setTimeout(resolve, 50));

    await appendMany(events, 1, 'TestEvent');
    const bad = events.events.at(-1)!;
    broken.failOn = (e) => e.id === bad.id;
    // The batch with the bad event may already be in flight: it fails now or at its retry.
    await appendMany(events, 3, 'TestEvent');
    await eventually(() => store.records.get('broken')?.failure != null, 5_000, 'failure');
    await eventually(() => checkpointOf(store, 'healthy') === head(events), 5_000, 'healthy goes on');
    expect(store.records.get('broken')!.failure).toMatchObject({ eventId: bad.id });
    expect(store.appliedIds('rm_healthy')).toEqual(events.events.map((e) => e.id));
    expect(store.appliedIds('rm_broken')).toEqual(events.events.slice(0, 2).map((e) => e.id));

    await appendMany(events, 2, 'TestEvent');
    await eventually(() => checkpointOf(store, 'healthy') === head(events), 5_000, 'healthy still goes on');
    expect(new Set(store.appliedIds('rm_healthy')).size).toBe(events.events.length);
  });

  it('are not held back by one replaying a long history: it follows alone until it is caught up, then joins', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const live = recordingProjection('live');
    await appendMany(events, 5, 'TestEvent');
    const first = runner({ eventStore: events, store, projections: [live] }, { batchSize: 10 });
    first.start();
    await eventually(allAt(store, ['live'], events), 5_000, 'live caught up');
    await first.stop();

    // A new projection with 200 events of history, each batch of it held back.
    await appendMany(events, 200, 'TestEvent', 20);
    const late = recordingProjection('late');
    let release: () => void = () => undefined;
    late.gate = () => new Promise<void>((resolve) => (release = resolve));
    const r = runner({ eventStore: events, store, projections: [live, late] }, { batchSize: 10 });
    r.start();
    await eventually(allAt(store, ['live'], events), 5_000, 'live keeps up while late is held');
    expect(store.appliedIds('rm_late').length).toBeLessThan(10);

    late.gate = () => Promise.resolve();
    release();
    await eventually(allAt(store, ['live', 'late'], events), 10_000, 'late caught up');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = store.commits;
    await appendMany(events, 3, 'TestEvent', 3);
    await eventually(allAt(store, ['live', 'late'], events), 5_000, 'both live');
    expect(store.commits - before).toBe(1);
    expect(store.appliedIds('rm_late')).toEqual(events.events.map((e) => e.id));
    expect(store.appliedIds('rm_live')).toEqual(events.events.map((e) => e.id));
  });

  it('on stop, let the batch being committed for them finish before their leases go', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const a = recordingProjection('a');
    const b = recordingProjection('b');
    await appendMany(events, 2, 'TestEvent');
    const r = runner({ eventStore: events, store, projections: [a, b] }, { batchSize: 100 });
    r.start();
    await eventually(allAt(store, ['a', 'b'], events), 5_000, 'catch-up');
    await new Promise((resolve) => setTimeout(resolve, 50));

    let release: () => void = () => undefined;
    let held = false;
    // The first event of the next batch waits for the test; the rest go through.
    a.gate = () => {
      if (held) return Promise.resolve();
      held = true;
      return new Promise<void>((resolve) => (release = resolve));
    };
    await appendMany(events, 2, 'TestEvent', 2);
    await eventually(() => held, 5_000, 'batch in flight');
    const stopped = r.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.leaderOf('a')).toBeDefined();
    release();
    await stopped;
    expect(allAt(store, ['a', 'b'], events)()).toBe(true);
    expect(store.leaderOf('a')).toBeUndefined();
    expect(store.leaderOf('b')).toBeUndefined();
  });
});
