import { afterEach, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/application/ports/position.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import { InMemoryEventStore, appendMany } from './support/in-memory-event-store.js';
import { InMemoryProjectionStore, TransientError } from './support/in-memory-projection-store.js';
import { eventually, recordingProjection } from './support/test-projections.js';
import { checkpointOf, head, unitRunners } from './support/unit-runners.js';

const { runner, stopAll } = unitRunners();

afterEach(stopAll);

describe('ProjectionRunner', () => {
  it('applies each handled event once, in batches, and checkpoints over the events it does not handle', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const p = recordingProjection('counts', { eventTypes: ['TestEvent'] });
    await appendMany(events, 1_100, (i) => (i % 3 === 0 ? 'OtherEvent' : 'TestEvent'));
    const r = runner({ eventStore: events, store, projections: [p] }, { batchSize: 500 });
    r.start();
    await eventually(() => checkpointOf(store, 'counts') === head(events), 5_000, 'catch-up');

    const handled = events.events.filter((e) => e.type === 'TestEvent').map((e) => e.id);
    expect(store.appliedIds('rm_counts')).toEqual(handled);
    expect(store.commits).toBe(3); // 500 + 500 + 100
    // One realtime change per handled event, positioned at that event.
    expect(store.realtime).toHaveLength(handled.length);
    const first = events.events.find((e) => e.type === 'TestEvent')!;
    expect(store.realtime[0]).toMatchObject({ projection: 'counts', type: 'test.applied', position: first.position, topics: [`test:${first.id}`, 'all:counts'] });

    // Live: new events arrive through the same subscription.
    await appendMany(events, 3, 'TestEvent');
    await eventually(() => checkpointOf(store, 'counts') === head(events), 5_000, 'live events');
    expect(store.appliedIds('rm_counts')).toHaveLength(handled.length + 3);
    expect(r.localState()).toEqual([expect.objectContaining({ name: 'counts', leader: true, state: 'running' })]);
  });

  it('stops a projection whose handler throws, at that event, while another goes on; restart resumes it', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const broken = recordingProjection('broken');
    const healthy = recordingProjection('healthy');
    await appendMany(events, 20, 'TestEvent');
    const bad = events.events[7]!;
    broken.failOn = (e) => e.id === bad.id;
    const r = runner({ eventStore: events, store, projections: [broken, healthy] }, { batchSize: 5 });
    r.start();

    await eventually(() => store.records.get('broken')?.failure != null, 5_000, 'failure');
    await eventually(() => checkpointOf(store, 'healthy') === head(events), 5_000, 'healthy catch-up');
    const failed = store.records.get('broken')!;
    expect(failed.failure).toMatchObject({ message: `handler refused event ${bad.id}`, eventId: bad.id, position: bad.position });
    // The batch holding event 8 (events 6..10) rolled back whole: checkpoint after event 5.
    expect(formatPosition(failed.checkpoint)).toBe(formatPosition(events.events[4]!.position));
    expect(store.appliedIds('rm_broken')).toEqual(events.events.slice(0, 5).map((e) => e.id));
    expect(store.appliedIds('rm_healthy')).toHaveLength(20);
    await eventually(() => r.localState().find((s) => s.name === 'broken')?.state === 'failed', 2_000, 'local failed state');

    const statuses = await readProjectionStatuses({ store, eventStore: events, projections: [broken, healthy] });
    expect(statuses.find((s) => s.name === 'broken')).toMatchObject({
      status: 'failed',
      error: `handler refused event ${bad.id}`,
      failedPosition: formatPosition(bad.position),
      failedEventId: bad.id,
      lag: 15,
      lagExact: true,
    });
    expect(statuses.find((s) => s.name === 'healthy')).toMatchObject({ status: 'running', lag: 0, leader: r.instanceId });

    // Nothing moves while failed, even with new events.
    await appendMany(events, 2, 'TestEvent');
    await new Promise((res) => setTimeout(res, 60));
    expect(formatPosition(store.records.get('broken')!.checkpoint)).toBe(formatPosition(events.events[4]!.position));

    broken.failOn = () => false;
    expect(await r.restart('broken')).toEqual({ ok: true, value: undefined });
    await eventually(() => checkpointOf(store, 'broken') === head(events), 5_000, 'resumed');
    expect(store.appliedIds('rm_broken')).toEqual(events.events.map((e) => e.id));
    expect(await r.restart('broken')).toEqual({ ok: false, error: { code: 'not_failed', name: 'broken' } });
    expect(await r.restart('nope')).toEqual({ ok: false, error: { code: 'unknown_projection', name: 'nope' } });
  });

  it('lets one runner lead across instances, and a follower take over when the leader stops', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const a = runner({ eventStore: events, store, projections: [recordingProjection('shared')] }, { instanceId: 'a' });
    const b = runner({ eventStore: events, store, projections: [recordingProjection('shared')] }, { instanceId: 'b' });
    a.start();
    await eventually(() => store.leaderOf('shared') === 'a', 2_000, 'a leads');
    b.start();
    await appendMany(events, 50, 'TestEvent');
    await eventually(() => checkpointOf(store, 'shared') === head(events), 5_000, 'a applies');
    expect(b.localState()[0]).toMatchObject({ state: 'follower', leader: false });

    await a.stop();
    expect(a.localState()[0]).toMatchObject({ state: 'stopped', leader: false });
    await eventually(() => store.leaderOf('shared') === 'b', 2_000, 'b takes over');
    await appendMany(events, 50, 'TestEvent');
    await eventually(() => checkpointOf(store, 'shared') === head(events), 5_000, 'b applies');
    expect(store.appliedIds('rm_shared')).toEqual(events.events.map((e) => e.id));
  });

  it('never applies an event twice even if two runners both believe they lead', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    store.exclusiveLeases = false;
    const slow = recordingProjection('contended');
    slow.gate = () => new Promise((res) => setTimeout(res, Math.random() < 0.05 ? 2 : 0));
    await appendMany(events, 300, 'TestEvent');
    for (const id of ['x', 'y', 'z']) runner({ eventStore: events, store, projections: [slow] }, { instanceId: id, batchSize: 7 }).start();
    await appendMany(events, 100, 'TestEvent');
    await eventually(() => checkpointOf(store, 'contended') === head(events), 10_000, 'all applied');
    expect(store.appliedIds('rm_contended')).toEqual(events.events.map((e) => e.id));
  });

  it('stops at a committed checkpoint: the batch in flight finishes, the lease is released', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const p = recordingProjection('stoppable');
    let release: () => void = () => undefined;
    let inFlight = false;
    p.gate = () => {
      inFlight = true;
      return new Promise<void>((res) => (release = res));
    };
    await appendMany(events, 10, 'TestEvent');
    const r = runner({ eventStore: events, store, projections: [p] }, { batchSize: 4 });
    r.start();
    await eventually(() => inFlight, 2_000, 'a batch in flight');
    p.gate = () => Promise.resolve();
    const stopped = r.stop();
    release();
    await stopped;
    // Exactly the first batch committed; the runner did not start another.
    expect(checkpointOf(store, 'stoppable')).toBe(formatPosition(events.events[3]!.position));
    expect(store.appliedIds('rm_stoppable')).toHaveLength(4);
    expect(store.leaderOf('stoppable')).toBeUndefined();
    expect(r.localState()[0]!.state).toBe('stopped');
  });

  it('competes again after losing its lease, and retries transient store errors without failing', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const p = recordingProjection('resilient');
    const r = runner({ eventStore: events, store, projections: [p] }, { instanceId: 'solo' });
    r.start();
    await eventually(() => store.leaderOf('resilient') === 'solo', 2_000, 'leads');
    store.loseLease('resilient');
    await appendMany(events, 5, 'TestEvent');
    await eventually(() => checkpointOf(store, 'resilient') === head(events), 5_000, 'after lease loss');

    store.failNextCommit = new TransientError('connection terminated');
    await appendMany(events, 5, 'TestEvent');
    await eventually(() => checkpointOf(store, 'resilient') === head(events), 5_000, 'after a failed commit');
    events.failReads = new Error('event store unreachable');
    await appendMany(events, 5, 'TestEvent');
    await eventually(() => checkpointOf(store, 'resilient') === head(events), 5_000, 'after a failed read');
    expect(store.records.get('resilient')!.failure).toBeNull();
    expect(store.appliedIds('rm_resilient')).toEqual(events.events.map((e) => e.id));
  });

  it('rebuilds by itself when its code is a newer version than the stored rows', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    await appendMany(events, 30, 'TestEvent');
    const v1 = runner({ eventStore: events, store, projections: [recordingProjection('versioned', { version: 1 })] });
    v1.start();
    await eventually(() => checkpointOf(store, 'versioned') === head(events), 5_000, 'v1 caught up');
    await v1.stop();

    const v2 = runner({ eventStore: events, store, projections: [recordingProjection('versioned', { version: 2 })] });
    v2.start();
    await eventually(() => store.records.get('versioned')!.version === 2, 5_000, 'rebuilt to v2');
    await appendMany(events, 5, 'TestEvent');
    await eventually(() => checkpointOf(store, 'versioned') === head(events), 5_000, 'v2 live');
    expect(store.appliedIds('rm_versioned')).toEqual(events.events.map((e) => e.id));
    expect(store.schemas.has('rm_versioned__rebuild')).toBe(false);
  });

  it('leaves rows of a newer version alone', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    await store.register({ name: 'future', version: 3, schemaSql: '' });
    await appendMany(events, 3, 'TestEvent');
    const old = runner({ eventStore: events, store, projections: [recordingProjection('future', { version: 2 })] });
    old.start();
    await eventually(() => old.localState()[0]!.state === 'outdated', 2_000, 'outdated');
    expect(store.appliedIds('rm_future')).toEqual([]);
    // It let go of the lease so a newer instance can run it.
    await eventually(() => store.leaderOf('future') === undefined, 2_000, 'lease released');
  });

  it('fails the projection at an event whose change the store could not write, instead of retrying forever', async () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const p = recordingProjection('unusable');
    const original = p.apply.bind(p);
    p.apply = async (sql, event) => {
      const changes = await original(sql, event);
      return (event.data as { i: number }).i === 2 ? [{ topics: ['x'], type: 'bad', data: { amount: 1n } }] : changes;
    };
    await appendMany(events, 4, 'TestEvent');
    runner({ eventStore: events, store, projections: [p] }).start();
    await eventually(() => store.records.get('unusable')?.failure != null, 2_000, 'failure');
    expect(store.records.get('unusable')!.failure).toMatchObject({
      eventId: events.events[2]!.id,
      message: expect.stringMatching(/unusable returned an unusable change: data is not JSON/) as string,
    });
  });

  it('refuses bad projection lists', () => {
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    expect(() => new ProjectionRunner({ eventStore: events, store, projections: [recordingProjection('Bad-Name')] })).toThrow(/invalid projection name/);
    expect(() => new ProjectionRunner({ eventStore: events, store, projections: [recordingProjection('a__b')] })).toThrow(/invalid projection name/);
    expect(() => new ProjectionRunner({ eventStore: events, store, projections: [recordingProjection('twice'), recordingProjection('twice')] })).toThrow(/twice/);
  });
});
