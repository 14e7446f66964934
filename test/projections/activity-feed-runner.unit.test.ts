import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/application/ports/event-store.js';
import { ActivityFeedRunner, rebuildActivityFeed } from '../../src/projections/activity/activity-feed-runner.js';
import { InMemoryActivityFeed } from '../activity-feed/in-memory-activity-feed.js';
import { InMemoryEventStore } from '../support/in-memory-event-store.js';
import { InMemoryProjectionStore } from './support/in-memory-projection-store.js';

const WAIT_MS = 5_000;
const runners: ActivityFeedRunner[] = [];

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
});

let n = 0;
function authorized(customerId: string): NewEvent {
  n++;
  const paymentId = `pay_01JD${String(n).padStart(22, '0')}`;
  return {
    id: randomUUID(),
    type: 'PaymentAuthorized',
    data: { paymentId, customerId, amount: n, currency: 'USD', paymentMethod: 'pm_card_visa', captureMethod: 'manual', providerPaymentId: 'pi', description: null, metadata: {} },
    metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 },
  };
}

async function appendPayments(store: InMemoryEventStore, customerId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const event = authorized(customerId);
    await store.append(`payment-${(event.data as { paymentId: string }).paymentId}`, [event], 'no_stream');
  }
}

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${WAIT_MS} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function runner(events: InMemoryEventStore, feed: InMemoryActivityFeed, leases: InMemoryProjectionStore, instanceId: string): ActivityFeedRunner {
  const r = new ActivityFeedRunner({ eventStore: events, feed, leases }, { instanceId, batchSize: 3, idlePollMs: 5, leaseRetryMs: 10 });
  runners.push(r);
  r.start();
  return r;
}

const headText = (events: InMemoryEventStore) => {
  const last = events.events.at(-1)!.position;
  return `${last.commit}.${last.prepare}`;
};

describe('ActivityFeedRunner', () => {
  it('has one leader across instances; the other takes over when its lease is lost, and no entry is written twice', async () => {
    const events = new InMemoryEventStore();
    const feed = new InMemoryActivityFeed();
    const leasesA = new InMemoryProjectionStore();
    const leasesB = new InMemoryProjectionStore(leasesA);
    const a = runner(events, feed, leasesA, 'a');
    const b = runner(new InMemoryEventStore(events), new InMemoryActivityFeed(feed), leasesB, 'b');
    await appendPayments(events, 'cus_1', 7);
    await eventually(async () => (await feed.page({ customerId: 'cus_1', limit: 100 })).length === 7, '7 entries');
    expect([a.status().leading, b.status().leading].filter(Boolean)).toHaveLength(1);
    const leader = a.status().leading ? leasesA : leasesB;
    leader.loseLease('activity');
    await appendPayments(events, 'cus_1', 4);
    await eventually(async () => (await feed.page({ customerId: 'cus_1', limit: 100 })).length === 11, '11 entries');
    await eventually(async () => (await feed.state()).checkpoint.commit === events.events.at(-1)!.position.commit, 'checkpoint at the head');
    expect(feed.liveCount()).toBe(11);
    expect((await feed.page({ customerId: 'cus_1', limit: 100 })).map((e) => e.amount)).toEqual([...Array(11).keys()].map((i) => n - i));
  });

  it('a crash after the entries and before the checkpoint, and a failed insert, are retried from the checkpoint without duplicates', async () => {
    const events = new InMemoryEventStore();
    const feed = new InMemoryActivityFeed();
    await appendPayments(events, 'cus_2', 5);
    feed.failNextAdvance = new Error('connection lost before the checkpoint');
    const r = runner(events, feed, new InMemoryProjectionStore(), 'solo');
    await eventually(() => r.status().failure !== null, 'the failure is visible');
    expect(r.status().failure).toBe('connection lost before the checkpoint');
    feed.failNextInsert = new Error('MongoDB unreachable');
    await eventually(async () => (await feed.state()).checkpoint.commit === events.events.at(-1)!.position.commit, 'checkpoint at the head');
    expect(feed.liveCount()).toBe(5);
    expect(r.status().failure).toBeNull();
    expect(headText(events)).toBe(`${(await feed.state()).checkpoint.commit}.${(await feed.state()).checkpoint.prepare}`);
  });

  it('stops at a written checkpoint and releases the lease', async () => {
    const events = new InMemoryEventStore();
    const feed = new InMemoryActivityFeed();
    const leases = new InMemoryProjectionStore();
    await appendPayments(events, 'cus_3', 2);
    const r = runner(events, feed, leases, 'x');
    await eventually(() => feed.liveCount() === 2, 'entries');
    await r.stop();
    expect(r.status().leading).toBe(false);
    expect(leases.leases.size).toBe(0);
  });

  it('follows a rebuild\'s switch to the new generation', async () => {
    const events = new InMemoryEventStore();
    const feed = new InMemoryActivityFeed();
    const leases = new InMemoryProjectionStore();
    await appendPayments(events, 'cus_4', 3);
    runner(events, feed, leases, 'live');
    await eventually(() => feed.liveCount() === 3, 'entries');
    const before = await feed.page({ customerId: 'cus_4', limit: 100 });
    const summary = await rebuildActivityFeed({ eventStore: events, feed: new InMemoryActivityFeed(feed), leases }, { holder: 'rebuild', batchSize: 2 });
    expect(summary).toMatchObject({ generation: 2, events: 3, entries: 3 });
    expect(await feed.page({ customerId: 'cus_4', limit: 100 })).toEqual(before);
    await appendPayments(events, 'cus_4', 2);
    await eventually(() => feed.liveCount() === 5, 'new entries in the new generation');
    expect((await feed.state()).live).toBe(2);
  });

  it('refuses a second rebuild while one holds the rebuild lease', async () => {
    const leases = new InMemoryProjectionStore();
    const held = await leases.tryAcquireLease('activity', 'rebuild', 'other');
    expect(await rebuildActivityFeed({ eventStore: new InMemoryEventStore(), feed: new InMemoryActivityFeed(), leases }, { holder: 'me' })).toBeUndefined();
    await held?.release();
  });
});
