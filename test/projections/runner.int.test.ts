import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatPosition, position } from '../../src/application/ports/position.js';
import { PostgresProjectionProgressFeed } from '../../src/infrastructure/postgres/projections/progress-feed.js';
import { CheckpointWaiter } from '../../src/projections/checkpoint-waiter.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import { appendMany } from './support/in-memory-event-store.js';
import type { ProjectionTestDatabase } from './support/postgres-setup.js';
import { count, counterOf, projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually, recordingProjection } from './support/test-projections.js';

let t: ProjectionTestDatabase;
const runners: ProjectionRunner[] = [];

beforeAll(async () => {
  t = await projectionTestDatabase('projection_runner');
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await t?.drop();
});

function start(runner: ProjectionRunner): ProjectionRunner {
  runners.push(runner);
  runner.start();
  return runner;
}


describe('projection runner on PostgreSQL', () => {
  it('commits rows, checkpoint and realtime changes per batch, and notifies once per batch', async () => {
    const a = t.instance('batches');
    const p = recordingProjection('batches', { eventTypes: ['TestEvent'] });
    const listener = new pg.Client({ connectionString: t.db.url });
    await listener.connect();
    const heard: { channel: string; payload: string | undefined }[] = [];
    listener.on('notification', (m) => heard.push({ channel: m.channel, payload: m.payload }));
    await listener.query('LISTEN ledger_projections; LISTEN ledger_changes');
    try {
      // 50 events per append: batches cut through transactions of many events.
      const end = await appendMany(a.eventStore, 250, (i) => (i % 5 === 0 ? 'OtherEvent' : 'TestEvent'), 50);
      start(new ProjectionRunner({ eventStore: a.eventStore, store: a.store, projections: [p] }, { batchSize: 100, leaseRetryMs: 100 }));
      await eventually(() => reached(a.pool, 'batches', end), 10_000, 'caught up');

      expect(await count(a.pool, 'rm_batches.applied')).toBe(200);
      expect(await counterOf(a.pool, 'rm_batches')).toBe(200);
      // One realtime row per (change, topic), at the position of the event that caused it.
      const changes = await a.pool.query<{ topic: string; type: string; pos: string; data: { id: string; position: string } }>(
        `SELECT topic, type, position_commit::text || '.' || position_prepare::text AS pos, data FROM realtime_changes WHERE projection = 'batches' ORDER BY id`,
      );
      expect(changes.rows).toHaveLength(400);
      for (const row of changes.rows) expect(row.pos).toBe(row.data.position);
      expect(changes.rows[0]).toMatchObject({ topic: `test:${changes.rows[0]!.data.id}`, type: 'test.applied' });
      expect(changes.rows[1]).toMatchObject({ topic: 'all:batches' });

      await eventually(() => heard.filter((h) => h.channel === 'ledger_projections').length >= 3, 2_000, 'notifications');
      expect(heard.filter((h) => h.channel === 'ledger_projections').every((h) => h.payload === 'batches')).toBe(true);
      const batches = heard.filter((h) => h.channel === 'ledger_projections').length;
      expect(batches).toBe(3); // 250 events in batches of 100
      expect(heard.filter((h) => h.channel === 'ledger_changes')).toHaveLength(batches);
    } finally {
      await listener.end();
    }
  });

  it('leaves rows and checkpoint consistent when a handler throws mid-batch, and lets other projections go on', async () => {
    const a = t.instance('failing');
    const broken = recordingProjection('broken', { eventTypes: ['FailEvent'] });
    const healthy = recordingProjection('healthy', { eventTypes: ['FailEvent'] });
    const end = await appendMany(a.eventStore, 30, 'FailEvent');
    broken.failOn = (e) => (e.data as { i: number }).i === 17;
    const runner = start(
      new ProjectionRunner({ eventStore: a.eventStore, store: a.store, projections: [broken, healthy] }, { batchSize: 8, leaseRetryMs: 100 }),
    );
    await eventually(async () => (await a.store.read(['broken']))[0]?.failure != null, 10_000, 'failure recorded');
    await eventually(() => reached(a.pool, 'healthy', end), 10_000, 'healthy caught up');
    const mine = (await a.eventStore.readAll({ maxCount: 1_000 })).filter((e) => e.type === 'FailEvent');
    const bad = mine[17]!;

    const [record] = await a.store.read(['broken']);
    expect(record!.failure).toMatchObject({ message: `handler refused event ${bad.id}`, eventId: bad.id, position: bad.position });
    // Checkpoint at the end of the last committed batch; exactly the events before it applied.
    const applied = await a.pool.query<{ event_id: string }>('SELECT event_id FROM rm_broken.applied');
    expect(applied.rows.length).toBe(await counterOf(a.pool, 'rm_broken'));
    const lastApplied = mine[applied.rows.length - 1]!;
    expect(formatPosition(record!.checkpoint)).toBe(formatPosition(lastApplied.position));
    expect(applied.rows.length).toBeLessThanOrEqual(17);
    expect(applied.rows.length).toBeGreaterThanOrEqual(17 - 8);
    expect(await counterOf(a.pool, 'rm_healthy')).toBe(30);

    const statuses = await readProjectionStatuses({ store: a.store, eventStore: a.eventStore, projections: [broken, healthy] });
    expect(statuses.find((s) => s.name === 'broken')).toMatchObject({
      status: 'failed',
      failedPosition: formatPosition(bad.position),
      failedEventId: bad.id,
      leader: runner.instanceId,
    });
    expect(statuses.find((s) => s.name === 'healthy')).toMatchObject({ status: 'running', lag: 0, leader: runner.instanceId });

    broken.failOn = () => false;
    expect((await runner.restart('broken')).ok).toBe(true);
    await eventually(() => reached(a.pool, 'broken', end), 10_000, 'resumed');
    expect(await counterOf(a.pool, 'rm_broken')).toBe(30);
    expect(await count(a.pool, 'rm_broken.applied')).toBe(30);
  });

  it('recovers from a connection killed mid-batch without losing or doubling anything', async () => {
    const a = t.instance('killed');
    const admin = t.instance('killer');
    const p = recordingProjection('killed', { eventTypes: ['KillEvent'] });
    let killed = false;
    const original = p.apply.bind(p);
    p.apply = async (sql, event) => {
      const changes = await original(sql, event);
      if (!killed) {
        killed = true;
        const { rows } = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await sql.query('SELECT 1'); // fails: the connection is gone
      }
      return changes;
    };
    const end = await appendMany(a.eventStore, 40, 'KillEvent');
    start(new ProjectionRunner({ eventStore: a.eventStore, store: a.store, projections: [p] }, { batchSize: 15, leaseRetryMs: 50, maxBackoffMs: 100 }));
    await eventually(() => reached(a.pool, 'killed', end), 15_000, 'caught up after the kill');
    expect(killed).toBe(true);
    expect(await counterOf(a.pool, 'rm_killed')).toBe(40);
    const dupes = await a.pool.query('SELECT event_id FROM rm_killed.applied GROUP BY event_id HAVING count(*) > 1');
    expect(dupes.rows).toEqual([]);
    expect((await a.store.read(['killed']))[0]!.failure).toBeNull();
  });

  it('runs a projection in one instance of two, never applies twice, and fails over when the leader stops or loses its session', async () => {
    const one = t.instance('one');
    const two = t.instance('two');
    const admin = t.instance('admin');
    const runnerOne = start(
      new ProjectionRunner({ eventStore: one.eventStore, store: one.store, projections: [recordingProjection('shared', { eventTypes: ['SharedEvent'] })] }, { instanceId: 'one', batchSize: 20, leaseRetryMs: 100 }),
    );
    await eventually(async () => (await one.store.read(['shared']))[0]?.leader === 'one', 5_000, 'one leads');
    const runnerTwo = start(
      new ProjectionRunner({ eventStore: two.eventStore, store: two.store, projections: [recordingProjection('shared', { eventTypes: ['SharedEvent'] })] }, { instanceId: 'two', batchSize: 20, leaseRetryMs: 100 }),
    );
    let end = await appendMany(admin.eventStore, 100, 'SharedEvent');
    await eventually(() => reached(admin.pool, 'shared', end), 10_000, 'first 100');
    expect(runnerTwo.localState()[0]).toMatchObject({ state: 'follower', leader: false });

    // Stop the leader: the follower takes over within its retry interval.
    await runnerOne.stop();
    await eventually(async () => (await admin.store.read(['shared']))[0]?.leader === 'two', 5_000, 'two takes over');
    end = await appendMany(admin.eventStore, 100, 'SharedEvent');
    await eventually(() => reached(admin.pool, 'shared', end), 10_000, 'second 100');

    // Kill the leader's lease session: the lock goes with it, and instance one (restarted) takes over.
    const restarted = start(
      new ProjectionRunner({ eventStore: one.eventStore, store: one.store, projections: [recordingProjection('shared', { eventTypes: ['SharedEvent'] })] }, { instanceId: 'one-again', batchSize: 20, leaseRetryMs: 100 }),
    );
    await admin.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'test-two:projection-leases'`);
    await eventually(async () => (await admin.store.read(['shared']))[0]?.leader === 'one-again', 5_000, 'one-again takes over');
    expect(restarted.localState()[0]!.leader).toBe(true);
    end = await appendMany(admin.eventStore, 100, 'SharedEvent');
    await eventually(() => reached(admin.pool, 'shared', end), 10_000, 'third 100');
    // Instance two noticed and went back to following.
    await eventually(() => runnerTwo.localState()[0]!.state === 'follower', 5_000, 'two follows again');

    expect(await counterOf(admin.pool, 'rm_shared')).toBe(300);
    const dupes = await admin.pool.query('SELECT event_id FROM rm_shared.applied GROUP BY event_id HAVING count(*) > 1');
    expect(dupes.rows).toEqual([]);
  });

  it('never applies twice even when two runners race without the lease', async () => {
    const one = t.instance('race-one');
    const two = t.instance('race-two');
    // Grant every lease request: only the conditional checkpoint stands between them.
    for (const s of [one.store, two.store]) {
      s.tryAcquireLease = () => Promise.resolve({ lost: new AbortController().signal, release: () => Promise.resolve() });
    }
    await appendMany(one.eventStore, 200, 'RaceEvent', 10);
    for (const [i, inst] of [one, two].entries()) {
      start(new ProjectionRunner({ eventStore: inst.eventStore, store: inst.store, projections: [recordingProjection('race', { eventTypes: ['RaceEvent'] })] }, { instanceId: `racer-${i}`, batchSize: 7, leaseRetryMs: 20 }));
    }
    const end = await appendMany(one.eventStore, 100, 'RaceEvent', 10);
    await eventually(() => reached(one.pool, 'race', end), 15_000, 'all applied');
    expect(await counterOf(one.pool, 'rm_race')).toBe(300);
    expect(await count(one.pool, 'rm_race.applied')).toBe(300);
  });

  it('waits for a position across instances: true once the checkpoint passes it, false on timeout', async () => {
    const writer = t.instance('writer');
    const reader = t.instance('reader');
    const feed = new PostgresProjectionProgressFeed(reader.pool);
    const waiter = new CheckpointWaiter({ store: reader.store, feed }, { pollIntervalMs: 2_000 });
    try {
      waiter.start();
      await eventually(() => feed.listening, 5_000, 'LISTEN in effect');
      start(new ProjectionRunner({ eventStore: writer.eventStore, store: writer.store, projections: [recordingProjection('waited', { eventTypes: ['WaitEvent'] })] }, { leaseRetryMs: 100 }));
      await eventually(() => reached(reader.pool, 'waited', undefined), 5_000, 'registered');
      await appendMany(writer.eventStore, 5, 'WaitEvent');
      const written = await appendMany(writer.eventStore, 1, 'WaitEvent');
      const started = Date.now();
      expect(await waiter.waitForPosition('waited', written!, 5_000)).toBe(true);
      // Woken by NOTIFY, not by the (2 s) poll.
      expect(Date.now() - started).toBeLessThan(1_500);
      // An event the projection does not handle is still passed: any position can be waited for.
      const other = await appendMany(writer.eventStore, 1, 'UnrelatedEvent');
      expect(await waiter.waitForPosition('waited', other!, 5_000)).toBe(true);
      // A position no event has reached yet: false after the timeout.
      const future = position(other!.commit + 1_000_000n, 0n);
      const before = Date.now();
      expect(await waiter.waitForPosition('waited', future, 300)).toBe(false);
      expect(Date.now() - before).toBeGreaterThanOrEqual(290);
      expect(await waiter.waitForPosition('nobody', written!, 100)).toBe(false);
    } finally {
      waiter.close();
      await feed.close();
    }
  });

  it('reports status from the shared database: leader, checkpoint, lag, stopped', async () => {
    const a = t.instance('status');
    const p = recordingProjection('reported', { eventTypes: ['StatusEvent'] });
    const runner = start(new ProjectionRunner({ eventStore: a.eventStore, store: a.store, projections: [p] }, { instanceId: 'status-host', leaseRetryMs: 100 }));
    const end = (await appendMany(a.eventStore, 10, 'StatusEvent'))!;
    await eventually(() => reached(a.pool, 'reported', end), 10_000, 'caught up');
    const other = t.instance('status-reader');
    let [status] = (await readProjectionStatuses({ store: other.store, eventStore: other.eventStore, projections: [p] })).filter((s) => s.name === 'reported');
    expect(status).toMatchObject({ name: 'reported', version: 1, storedVersion: 1, status: 'running', checkpoint: formatPosition(end), lag: 0, lagExact: true, error: null, leader: 'status-host' });
    await runner.stop();
    await appendMany(a.eventStore, 3, 'StatusEvent');
    // The head only shows the new events once no older transaction is open: poll briefly.
    await eventually(async () => {
      [status] = (await readProjectionStatuses({ store: other.store, eventStore: other.eventStore, projections: [p] })).filter((s) => s.name === 'reported');
      return status?.lag === 3;
    }, 5_000, 'lag of 3');
    expect(status).toMatchObject({ status: 'stopped', leader: null, lag: 3, lagExact: true });
  });
});
