import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Position } from '../../src/application/ports/position.js';
import { formatPosition } from '../../src/application/ports/position.js';
import type { RebuildProgressReport } from '../../src/projections/rebuild.js';
import { ProjectionRebuilder } from '../../src/projections/rebuild.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { readProjectionStatuses } from '../../src/projections/status.js';
import { appendMany } from './support/in-memory-event-store.js';
import type { ProjectionTestDatabase } from './support/postgres-setup.js';
import { checkpointOf, count, counterOf, projectionTestDatabase, reached } from './support/postgres-setup.js';
import { eventually, recordingProjection } from './support/test-projections.js';

let t: ProjectionTestDatabase;
const runners: ProjectionRunner[] = [];

beforeAll(async () => {
  t = await projectionTestDatabase('projection_rebuild');
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

async function schemas(prefix: string): Promise<string[]> {
  const { rows } = await t.db.pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY nspname`, [`${prefix}%`]);
  return rows.map((r) => r.nspname);
}

async function eventIdsOfType(type: string): Promise<string[]> {
  const all = await t.instance('reader').eventStore.readAll({ maxCount: 10_000 });
  return all.filter((e) => e.type === type).map((e) => e.id);
}

describe('projection rebuild and audit on PostgreSQL', () => {
  it('replays into a fresh schema while the live one keeps serving, then switches to identical rows', async () => {
    const service = t.instance('rebuild-service');
    const ops = t.instance('rebuild-ops');
    await appendMany(service.eventStore, 400, 'AuditEvent');
    start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [recordingProjection('audited', { eventTypes: ['AuditEvent'] })] }, { batchSize: 50, leaseRetryMs: 100 }));
    await eventually(async () => (await count(service.pool, 'rm_audited.applied')) === 400, 10_000, 'live caught up');

    // Writes go on during the rebuild, and the live projection keeps applying them.
    let writing = true;
    let last: Position | undefined;
    const liveCheckpoints = new Set<string>();
    const writer = (async () => {
      while (writing) {
        last = (await appendMany(service.eventStore, 3, 'AuditEvent')) ?? last;
        liveCheckpoints.add((await checkpointOf(service.pool, 'audited')) ?? '');
      }
    })();

    const replaying = recordingProjection('audited', { eventTypes: ['AuditEvent'] });
    const rebuilder = new ProjectionRebuilder(
      { eventStore: ops.eventStore, store: ops.store, projections: [replaying] },
      { batchSize: 40, instanceId: 'ops-cli' },
    );
    const progress: RebuildProgressReport[] = [];
    // Halfway through, hold the replay until the live checkpoint has visibly moved on. The
    // hold is at the first event of a batch, before that transaction writes: a transaction
    // holding a transaction id would hide newer events from every reader of the log.
    let replayed = 0;
    replaying.gate = async () => {
      if (++replayed === 201) await eventually(() => liveCheckpoints.size >= 3, 5_000, 'live progress during the rebuild');
    };
    const result = await rebuilder.rebuild('audited', (p) => {
      // Only checkpoints seen while the rebuild runs count as "the live one kept going".
      if (p.processed === 0) liveCheckpoints.clear();
      progress.push(p);
    });
    writing = false;
    await writer;

    expect(result).toMatchObject({ ok: true, value: { name: 'audited', version: 1 } });
    expect(liveCheckpoints.size).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeGreaterThan(5);
    expect(progress[0]).toMatchObject({ name: 'audited', phase: 'replaying', processed: 0, position: null });
    expect(progress.at(-1)).toMatchObject({ phase: 'finishing' });
    expect(progress.at(-2)!.processed).toBeGreaterThanOrEqual(400);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.processed).toBeGreaterThanOrEqual(progress[i - 1]!.processed);
    expect(progress.every((p) => p.head !== null)).toBe(true);
    expect(await schemas('rm_audited')).toEqual(['rm_audited']);

    // The live projection goes on in the switched schema, exactly once per event.
    await eventually(() => reached(service.pool, 'audited', last), 10_000, 'live after the switch');
    const expected = await eventIdsOfType('AuditEvent');
    const applied = await service.pool.query<{ event_id: string }>('SELECT event_id FROM rm_audited.applied');
    expect(applied.rows.map((r) => r.event_id).sort()).toEqual([...expected].sort());
    expect(await counterOf(service.pool, 'rm_audited')).toBe(expected.length);

    // An audit replays again and finds the live rows identical.
    const audit = await rebuilder.audit('audited');
    expect(audit).toMatchObject({ ok: true, value: { matches: true, differences: { count: 0, sample: [] } } });
    expect(await schemas('rm_audited')).toEqual(['rm_audited']);
  });

  it('audits: reports differences with a sample, without switching', async () => {
    const service = t.instance('audit-service');
    await appendMany(service.eventStore, 30, 'TamperEvent');
    const runner = start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [recordingProjection('tampered', { eventTypes: ['TamperEvent'] })] }, { leaseRetryMs: 100 }));
    await eventually(async () => (await count(service.pool, 'rm_tampered.applied')) === 30, 10_000, 'caught up');
    await runner.stop();
    const victim = await service.pool.query<{ event_id: string }>('DELETE FROM rm_tampered.applied WHERE event_id = (SELECT event_id FROM rm_tampered.applied LIMIT 1) RETURNING event_id');
    await service.pool.query('UPDATE rm_tampered.counter SET n = n + 100');

    const rebuilder = new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [recordingProjection('tampered', { eventTypes: ['TamperEvent'] })] });
    const audit = await rebuilder.audit('tampered');
    expect(audit.ok).toBe(true);
    if (!audit.ok) return;
    // applied: one row only in the rebuild; counter: the changed row on both sides.
    expect(audit.value.matches).toBe(false);
    expect(audit.value.differences.count).toBe(3);
    expect(audit.value.differences.sample).toEqual(
      expect.arrayContaining([
        { table: 'applied', side: 'rebuilt', row: expect.objectContaining({ event_id: victim.rows[0]!.event_id }) },
        { table: 'counter', side: 'live', row: { id: 1, n: 130 } },
        { table: 'counter', side: 'rebuilt', row: { id: 1, n: 30 } },
      ]),
    );
    // Nothing switched: the tampered rows are still live; the scratch schema is gone.
    expect(await counterOf(service.pool, 'rm_tampered')).toBe(130);
    expect(await schemas('rm_tampered')).toEqual(['rm_tampered']);
  });

  it('shows a running rebuild in status, refuses a second one, and fails cleanly on a handler error', async () => {
    const service = t.instance('gated-service');
    const ops = t.instance('gated-ops');
    await appendMany(service.eventStore, 60, 'GatedEvent');
    const live = recordingProjection('gated', { eventTypes: ['GatedEvent'] });
    start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [live] }, { instanceId: 'gated-host', leaseRetryMs: 100 }));
    await eventually(async () => (await count(service.pool, 'rm_gated.applied')) === 60, 10_000, 'caught up');

    const rebuilding = recordingProjection('gated', { eventTypes: ['GatedEvent'] });
    let applied = 0;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    rebuilding.gate = async () => {
      applied += 1;
      if (applied > 25) await gate;
    };
    const rebuilder = new ProjectionRebuilder({ eventStore: ops.eventStore, store: ops.store, projections: [rebuilding] }, { batchSize: 10, instanceId: 'ops', progressIntervalMs: 0 });
    const first = rebuilder.rebuild('audited-not-here');
    expect(await first).toEqual({ ok: false, error: { code: 'unknown_projection', name: 'audited-not-here' } });

    const running = rebuilder.rebuild('gated');
    await eventually(async () => {
      const [s] = (await readProjectionStatuses({ store: service.store, eventStore: service.eventStore, projections: [live] })).filter((x) => x.name === 'gated');
      return s?.status === 'rebuilding' && (s.rebuild?.processed ?? 0) >= 20;
    }, 5_000, 'status shows the rebuild');
    const second = await new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [live] }).rebuild('gated');
    expect(second).toEqual({ ok: false, error: { code: 'rebuild_in_progress', name: 'gated' } });
    const bad = (await service.eventStore.readAll({ maxCount: 10_000 })).filter((e) => e.type === 'GatedEvent')[40]!;
    rebuilding.failOn = (e) => e.id === bad.id;
    open();
    expect(await running).toEqual({
      ok: false,
      error: { code: 'handler_failed', name: 'gated', message: `handler refused event ${bad.id}`, position: formatPosition(bad.position), eventId: bad.id },
    });
    // The live schema is untouched and still the only one; the live projection never failed.
    expect(await schemas('rm_gated')).toEqual(['rm_gated']);
    expect(await count(service.pool, 'rm_gated.applied')).toBe(60);
    const [s] = (await readProjectionStatuses({ store: service.store, eventStore: service.eventStore, projections: [live] })).filter((x) => x.name === 'gated');
    expect(s).toMatchObject({ status: 'running', rebuild: null, error: null, leader: 'gated-host' });
  });

  it('rebuilds a failed projection with fixed code and clears the failure, so the live runner resumes', async () => {
    const service = t.instance('fix-service');
    await appendMany(service.eventStore, 20, 'FixEvent');
    const buggy = recordingProjection('fixed', { eventTypes: ['FixEvent'] });
    buggy.failOn = (e) => (e.data as { i: number }).i === 12;
    start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [buggy] }, { batchSize: 5, leaseRetryMs: 50 }));
    await eventually(async () => (await service.store.read(['fixed']))[0]?.failure != null, 10_000, 'failed');

    buggy.failOn = () => false; // the "deploy" of the fix, as the rebuild sees it
    const rebuilt = await new ProjectionRebuilder({ eventStore: service.eventStore, store: service.store, projections: [buggy] }).rebuild('fixed');
    expect(rebuilt.ok).toBe(true);
    const end = await appendMany(service.eventStore, 5, 'FixEvent');
    await eventually(() => reached(service.pool, 'fixed', end), 10_000, 'resumed after the rebuild');
    expect((await service.store.read(['fixed']))[0]!.failure).toBeNull();
    expect(await counterOf(service.pool, 'rm_fixed')).toBe(25);
    expect(await count(service.pool, 'rm_fixed.applied')).toBe(25);
  });

  it('rebuilds on its own when a new version of the code starts', async () => {
    const service = t.instance('version-service');
    await appendMany(service.eventStore, 50, 'VersionEvent');
    const v1 = start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [recordingProjection('versioned', { eventTypes: ['VersionEvent'] })] }, { leaseRetryMs: 50 }));
    await eventually(async () => (await count(service.pool, 'rm_versioned.applied')) === 50, 10_000, 'v1 caught up');
    await v1.stop();
    // v2 records the event type too: its rows differ from v1's.
    const v2 = recordingProjection('versioned', { eventTypes: ['VersionEvent', 'VersionNoise'], version: 2 });
    start(new ProjectionRunner({ eventStore: service.eventStore, store: service.store, projections: [v2] }, { leaseRetryMs: 50 }));
    await appendMany(service.eventStore, 5, 'VersionNoise');
    const end = await appendMany(service.eventStore, 5, 'VersionEvent');
    await eventually(async () => (await service.store.read(['versioned']))[0]?.version === 2, 10_000, 'switched to v2');
    await eventually(() => reached(service.pool, 'versioned', end), 10_000, 'v2 live');
    expect(await count(service.pool, 'rm_versioned.applied')).toBe(60);
    expect(await schemas('rm_versioned')).toEqual(['rm_versioned']);
  });
});
