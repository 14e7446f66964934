import { afterEach, describe, expect, it } from 'vitest';
import { formatPosition } from '../../src/application/ports/position.js';
import type { ProjectionLogger } from '../../src/projections/logger.js';
import type { ProjectionObserver } from '../../src/projections/observer.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { InMemoryEventStore, appendMany } from './support/in-memory-event-store.js';
import { InMemoryProjectionStore } from './support/in-memory-projection-store.js';
import { eventually, recordingProjection } from './support/test-projections.js';

/* What the runner tells operators: log lines for start, leadership and failures, and committed batches to its observer. */

interface Line {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly details: Record<string, unknown>;
}

function recordingLogger(): ProjectionLogger & { readonly lines: Line[]; find(message: RegExp): Line | undefined } {
  const lines: Line[] = [];
  const log = (level: Line['level']) => (details: Record<string, unknown>, message: string) => void lines.push({ level, message, details });
  return { lines, info: log('info'), warn: log('warn'), error: log('error'), find: (m) => lines.find((l) => m.test(l.message)) };
}

function recordingObserver(): ProjectionObserver & { readonly started: string[]; readonly committed: { projection: string; events: number }[] } {
  const started: string[] = [];
  const committed: { projection: string; events: number }[] = [];
  return {
    started,
    committed,
    batchStarted(projection) {
      started.push(projection);
      return (events) => void committed.push({ projection, events });
    },
  };
}

const runners: ProjectionRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function setup(batchSize: number) {
  const events = new InMemoryEventStore();
  const store = new InMemoryProjectionStore();
  const logger = recordingLogger();
  const observer = recordingObserver();
  const projection = recordingProjection('watched');
  const runner = new ProjectionRunner({ eventStore: events, store, projections: [projection] }, { leaseRetryMs: 20, maxBackoffMs: 50, batchSize, logger, observer, instanceId: 'test-instance' });
  runners.push(runner);
  return { events, store, logger, observer, projection, runner };
}

const checkpointOf = (store: InMemoryProjectionStore, name: string): string | undefined => {
  const r = store.records.get(name);
  return r ? formatPosition(r.checkpoint) : undefined;
};

describe('ProjectionRunner observability', () => {
  it('logs its start and each leadership gained, from which checkpoint; the observer sees every committed event once', async () => {
    const { events, store, logger, observer, runner } = setup(4);
    await appendMany(events, 10, 'TestEvent');
    runner.start();
    const head = formatPosition(events.events[events.events.length - 1]!.position);
    await eventually(() => checkpointOf(store, 'watched') === head, 5_000, 'catch-up');

    expect(logger.find(/^projection runner started/)).toMatchObject({ level: 'info', details: { instanceId: 'test-instance', projections: ['watched'] } });
    expect(logger.find(/^projection leadership gained/)).toMatchObject({ level: 'info', details: { projection: 'watched', holder: 'test-instance', checkpoint: '0.0' } });
    expect(observer.committed.reduce((n, c) => n + c.events, 0)).toBe(10);
    expect(observer.committed.map((c) => c.events)).toEqual([4, 4, 2]);
    expect(observer.committed.every((c) => c.projection === 'watched')).toBe(true);
  });

  it('logs leadership lost when the lease goes, then gained again from the stored checkpoint', async () => {
    const { events, store, logger, runner } = setup(100);
    await appendMany(events, 3, 'TestEvent');
    runner.start();
    const head = formatPosition(events.events[events.events.length - 1]!.position);
    await eventually(() => checkpointOf(store, 'watched') === head, 5_000, 'catch-up');
    store.loseLease('watched');
    await eventually(() => logger.lines.filter((l) => l.message.startsWith('projection leadership gained')).length === 2, 5_000, 'a second term');
    expect(logger.find(/^projection leadership lost/)).toMatchObject({ level: 'warn', details: { projection: 'watched', checkpoint: head } });
    expect(logger.lines.filter((l) => l.message.startsWith('projection leadership gained'))[1]).toMatchObject({ details: { checkpoint: head } });
  });

  it('logs leadership released on stop', async () => {
    const { logger, runner } = setup(100);
    runner.start();
    await eventually(() => logger.find(/^projection leadership gained/) !== undefined, 5_000, 'leadership');
    await runner.stop();
    expect(logger.find(/^projection leadership released/)).toMatchObject({ level: 'info', details: { projection: 'watched', reason: 'stopping' } });
  });

  it('logs a failure with the event position and id; the failed batch never reaches the observer', async () => {
    const { events, store, logger, observer, projection, runner } = setup(100);
    await appendMany(events, 5, 'TestEvent');
    const bad = events.events[2]!;
    projection.failOn = (e) => e.id === bad.id;
    runner.start();
    await eventually(() => store.records.get('watched')?.failure !== undefined, 5_000, 'the failure');
    await eventually(() => logger.find(/^projection handler failed/) !== undefined, 5_000, 'the failure line');
    expect(logger.find(/^projection handler failed/)).toMatchObject({ level: 'error', details: { projection: 'watched', position: formatPosition(bad.position), eventId: bad.id } });
    expect(observer.started.length).toBeGreaterThan(0);
    expect(observer.committed).toEqual([]);
  });
});
