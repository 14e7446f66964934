import { describe, expect, it } from 'vitest';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { instrumentEventStore } from '../../src/infrastructure/metrics/instrumented-event-store.js';
import type { ProjectionGaugeSample } from '../../src/infrastructure/metrics/metrics.js';
import { LedgerMetrics } from '../../src/infrastructure/metrics/metrics.js';
import { projectionGaugeSource } from '../../src/infrastructure/metrics/projection-gauges.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { InMemoryEventStore, appendMany, testEvent } from '../projections/support/in-memory-event-store.js';
import { InMemoryProjectionStore } from '../projections/support/in-memory-projection-store.js';
import { eventually, recordingProjection } from '../projections/support/test-projections.js';
import { valueOf as seriesValue } from './support.js';

/** 0 when the series is absent: counters start there. */
const valueOf = async (metrics: LedgerMetrics, name: string, labels: Record<string, string> = {}): Promise<number> => (await seriesValue(metrics, name, labels)) ?? 0;

/** Every scrape reads afresh, so a test sees a change at once. */
const quiet = (): LedgerMetrics => new LedgerMetrics({ defaultMetrics: false, projectionReadReuseMs: 0 });

describe('metric names', () => {
  it('are the documented Prometheus names, all in the text exposition', async () => {
    const metrics = quiet();
    const text = await metrics.render();
    for (const name of [
      'ledger_http_request_duration_seconds',
      'ledger_commands_total',
      'ledger_idempotent_replays_total',
      'ledger_rate_limit_refusals_total',
      'ledger_event_store_append_duration_seconds',
      'ledger_event_store_append_conflicts_total',
      'ledger_projection_events_applied_total',
      'ledger_projection_batch_duration_seconds',
      'ledger_projection_lag_events',
      'ledger_projection_lag_seconds',
      'ledger_projection_status',
      'ledger_projection_leader',
      'ledger_pg_pool_connections',
      'ledger_pg_pool_waiting',
      'ledger_socketio_connections',
      'ledger_socketio_subscriptions',
      'ledger_payment_requests_pending',
      'ledger_payment_request_oldest_age_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });
});

describe('instrumentEventStore', () => {
  it('times every append and counts conflicts, passing results and errors through', async () => {
    const metrics = quiet();
    const store = instrumentEventStore(new InMemoryEventStore(), metrics);
    const first = await store.append('payment-1', [testEvent('A')], 'no_stream');
    expect(first.nextExpectedRevision).toBe(streamRevision(0));
    await expect(store.append('payment-1', [testEvent('B')], 'no_stream')).rejects.toMatchObject({ name: 'WrongExpectedVersion' });
    await store.append('payment-1', [testEvent('C')], streamRevision(0));
    expect(await valueOf(metrics, 'ledger_event_store_append_duration_seconds', { le: '+Inf' })).toBe(3);
    expect(await valueOf(metrics, 'ledger_event_store_append_conflicts_total')).toBe(1);
    // Reads pass through untouched.
    expect((await store.readStream('payment-1')).events.map((e) => e.type)).toEqual(['A', 'C']);
  });

  it('an error that is not a conflict is timed but not counted as one', async () => {
    const metrics = quiet();
    const failing = new InMemoryEventStore();
    failing.append = () => Promise.reject(new Error('connection lost'));
    await expect(instrumentEventStore(failing, metrics).append('s', [testEvent('A')], 'any')).rejects.toThrow('connection lost');
    expect(await valueOf(metrics, 'ledger_event_store_append_duration_seconds', { le: '+Inf' })).toBe(1);
    expect(await valueOf(metrics, 'ledger_event_store_append_conflicts_total')).toBe(0);
  });
});

describe('projection metrics', () => {
  it('a running projection: events applied and batches counted; lag, status and leader read at scrape time', async () => {
    const metrics = quiet();
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const projection = recordingProjection('watched');
    const runner = new ProjectionRunner({ eventStore: events, store, projections: [projection] }, { leaseRetryMs: 20, batchSize: 4, observer: metrics });
    metrics.watchProjections(projectionGaugeSource({ store, eventStore: events, projections: [projection], runner, clock: { now: () => new Date() } }));
    await appendMany(events, 10, 'TestEvent');
    runner.start();
    try {
      await eventually(async () => (await valueOf(metrics, 'ledger_projection_events_applied_total', { projection: 'watched' })) === 10, 5_000, 'all applied');
      expect(await valueOf(metrics, 'ledger_projection_batch_duration_seconds', { projection: 'watched', le: '+Inf' })).toBe(3);
      await eventually(async () => (await valueOf(metrics, 'ledger_projection_status', { projection: 'watched', status: 'running' })) === 1, 5_000, 'running');
      expect(await valueOf(metrics, 'ledger_projection_status', { projection: 'watched', status: 'failed' })).toBe(0);
      expect(await valueOf(metrics, 'ledger_projection_leader', { projection: 'watched' })).toBe(1);
      expect(await valueOf(metrics, 'ledger_projection_lag_events', { projection: 'watched' })).toBe(0);
      expect(await valueOf(metrics, 'ledger_projection_lag_seconds', { projection: 'watched' })).toBe(0);
    } finally {
      await runner.stop();
    }
    expect(await valueOf(metrics, 'ledger_projection_leader', { projection: 'watched' })).toBe(0);
    expect(await valueOf(metrics, 'ledger_projection_status', { projection: 'watched', status: 'stopped' })).toBe(1);
  });

  it('a stuck projection: lag in events, and lag in seconds from the oldest unapplied event, which grows', async () => {
    const metrics = quiet();
    const events = new InMemoryEventStore();
    const store = new InMemoryProjectionStore();
    const projection = recordingProjection('stuck');
    await appendMany(events, 3, 'TestEvent');
    const oldest = events.events[0]!;
    let now = new Date(oldest.recordedAt.getTime() + 42_000);
    const runner = { localState: () => [] };
    metrics.watchProjections(projectionGaugeSource({ store, eventStore: events, projections: [projection], runner, clock: { now: () => now } }));
    expect(await valueOf(metrics, 'ledger_projection_lag_events', { projection: 'stuck' })).toBe(3);
    expect(await valueOf(metrics, 'ledger_projection_lag_seconds', { projection: 'stuck' })).toBe(42);
    expect(await valueOf(metrics, 'ledger_projection_status', { projection: 'stuck', status: 'stopped' })).toBe(1);
    expect(await valueOf(metrics, 'ledger_projection_leader', { projection: 'stuck' })).toBe(0);
    now = new Date(now.getTime() + 60_000);
    expect(await valueOf(metrics, 'ledger_projection_lag_seconds', { projection: 'stuck' })).toBe(102);
  });

  it('a failing read leaves the projection gauges out of the scrape and says why; the rest of the scrape works', async () => {
    const errors: unknown[] = [];
    const metrics = new LedgerMetrics({ defaultMetrics: false, onCollectError: (_source, error) => errors.push(error) });
    metrics.watchProjections(() => Promise.reject(new Error('database down')));
    const text = await metrics.render();
    expect(text).not.toMatch(/^ledger_projection_lag_events\{/m);
    expect(errors).toEqual([expect.objectContaining({ message: 'database down' })]);
  });

  it('one read serves the four gauges of a scrape', async () => {
    const metrics = new LedgerMetrics({ defaultMetrics: false });
    let reads = 0;
    const sample: ProjectionGaugeSample = { projection: 'p', status: 'catching_up', lagEvents: 7, lagSeconds: 1.5, leader: true };
    metrics.watchProjections(() => {
      reads += 1;
      return Promise.resolve([sample]);
    });
    const text = await metrics.render();
    expect(reads).toBe(1);
    expect(text).toContain('ledger_projection_lag_events{projection="p"} 7');
    expect(text).toContain('ledger_projection_lag_seconds{projection="p"} 1.5');
    expect(text).toContain('ledger_projection_status{projection="p",status="catching_up"} 1');
    expect(text).toContain('ledger_projection_status{projection="p",status="running"} 0');
    expect(text).toContain('ledger_projection_leader{projection="p"} 1');
  });
});

describe('payment request backlog metrics', () => {
  it('one read serves both gauges of a scrape', async () => {
    const metrics = new LedgerMetrics({ defaultMetrics: false });
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBeNaN(); // nothing watched yet: unknown, not "none"
    let reads = 0;
    metrics.watchPaymentRequests(() => {
      reads += 1;
      return Promise.resolve({ pending: 3, oldestAgeSeconds: 12.5 });
    });
    const text = await metrics.render();
    expect(reads).toBe(1);
    expect(text).toMatch(/^ledger_payment_requests_pending 3$/m);
    expect(text).toMatch(/^ledger_payment_request_oldest_age_seconds 12\.5$/m);
  });

  it('are read afresh at every scrape', async () => {
    const metrics = quiet();
    let backlog = { pending: 3, oldestAgeSeconds: 12.5 };
    metrics.watchPaymentRequests(() => Promise.resolve(backlog));
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(3);
    backlog = { pending: 0, oldestAgeSeconds: 0 };
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(0);
    expect(await valueOf(metrics, 'ledger_payment_request_oldest_age_seconds')).toBe(0);
  });

  it('a failing read shows NaN (not the last value, nor a false 0) and says why', async () => {
    const errors: [string, unknown][] = [];
    const metrics = new LedgerMetrics({ defaultMetrics: false, projectionReadReuseMs: 0, onCollectError: (source, error) => errors.push([source, error]) });
    let fail = false;
    metrics.watchPaymentRequests(() => (fail ? Promise.reject(new Error('database down')) : Promise.resolve({ pending: 5, oldestAgeSeconds: 60 })));
    expect(await valueOf(metrics, 'ledger_payment_requests_pending')).toBe(5);
    fail = true;
    const text = await metrics.render();
    // prom-client writes NaN as `Nan`; Prometheus parses either (case-insensitively, as Go's ParseFloat).
    expect(text).toMatch(/^ledger_payment_requests_pending nan$/im);
    expect(text).toMatch(/^ledger_payment_request_oldest_age_seconds nan$/im);
    // Reuse is off here, so each gauge read once.
    expect(errors).toEqual([['payment_requests', expect.objectContaining({ message: 'database down' })], ['payment_requests', expect.anything()]]);
  });
});

describe('pool and rate-limit metrics', () => {
  it('pool connections are read from the pool at scrape time', async () => {
    const metrics = quiet();
    const pool = { totalCount: 5, idleCount: 2, waitingCount: 0 };
    metrics.watchPool(pool);
    expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'in_use' })).toBe(3);
    pool.idleCount = 0;
    pool.waitingCount = 4;
    expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'total' })).toBe(5);
    expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'in_use' })).toBe(5);
    expect(await valueOf(metrics, 'ledger_pg_pool_connections', { state: 'idle' })).toBe(0);
    expect(await valueOf(metrics, 'ledger_pg_pool_waiting')).toBe(4);
  });

  it('rate-limit refusals by bucket', async () => {
    const metrics = quiet();
    metrics.countRateLimitRefusal('credential');
    metrics.countRateLimitRefusal('unauthenticated');
    metrics.countRateLimitRefusal('unauthenticated');
    expect(await valueOf(metrics, 'ledger_rate_limit_refusals_total', { bucket: 'credential' })).toBe(1);
    expect(await valueOf(metrics, 'ledger_rate_limit_refusals_total', { bucket: 'unauthenticated' })).toBe(2);
  });
});
