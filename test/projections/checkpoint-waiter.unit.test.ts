import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Position } from '../../src/application/ports/position.js';
import { position } from '../../src/application/ports/position.js';
import type { ProjectionProgressFeed } from '../../src/application/ports/projection-store.js';
import { CheckpointWaiter } from '../../src/projections/checkpoint-waiter.js';

class FakeCheckpoints {
  readonly checkpoints = new Map<string, Position>();
  reads = 0;
  inFlight = 0;
  maxInFlight = 0;
  async readCheckpoints(names: readonly string[]): Promise<Map<string, Position>> {
    this.reads += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 1));
    this.inFlight -= 1;
    return new Map([...this.checkpoints].filter(([n]) => names.includes(n)));
  }
}

class FakeFeed implements ProjectionProgressFeed {
  readonly listeners = new Set<(name: string) => void>();
  subscriptions = 0;
  subscribe(listener: (name: string) => void): () => void {
    this.subscriptions += 1;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(name: string): void {
    for (const l of this.listeners) l(name);
  }
  async close(): Promise<void> {}
}

const at = (n: number): Position => position(BigInt(n), BigInt(n));

describe('CheckpointWaiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers at once when the checkpoint is already there', async () => {
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(10));
    const waiter = new CheckpointWaiter({ store, feed: new FakeFeed() });
    expect(await waiter.waitForPosition('payments', at(10), 1_000)).toBe(true);
    expect(await waiter.waitForPosition('payments', at(3), 0)).toBe(true);
    waiter.close();
  });

  it('wakes on a progress notification, with one listener and one read for many waiters', async () => {
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(1));
    const feed = new FakeFeed();
    const waiter = new CheckpointWaiter({ store, feed }, { pollIntervalMs: 60_000 });
    const waits = Array.from({ length: 50 }, () => waiter.waitForPosition('payments', at(5), 5_000));
    await new Promise((r) => setTimeout(r, 20));
    const readsBefore = store.reads;
    store.checkpoints.set('payments', at(5));
    feed.emit('payments');
    feed.emit('payments');
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
    expect(feed.subscriptions).toBe(1);
    expect(store.maxInFlight).toBe(1);
    expect(store.reads - readsBefore).toBeLessThanOrEqual(2);
    waiter.close();
  });

  it('ignores notifications for other projections and resolves only the waiters reached', async () => {
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(1));
    const feed = new FakeFeed();
    const waiter = new CheckpointWaiter({ store, feed }, { pollIntervalMs: 60_000 });
    const near = waiter.waitForPosition('payments', at(2), 300);
    const far = waiter.waitForPosition('payments', at(9), 300);
    await new Promise((r) => setTimeout(r, 10));
    store.checkpoints.set('payments', at(2));
    feed.emit('ledger');
    feed.emit('payments');
    expect(await near).toBe(true);
    expect(await far).toBe(false);
    waiter.close();
  });

  it('does not miss a notification that lands while its first read is in flight', async () => {
    // Reads answer what was there when they started, as a database snapshot does.
    let checkpoint = at(1);
    let notifyDuringRead: (() => void) | undefined;
    const store = {
      async readCheckpoints(names: readonly string[]): Promise<Map<string, Position>> {
        const snapshot = new Map(names.includes('payments') ? [['payments', checkpoint] as const] : []);
        const during = notifyDuringRead;
        notifyDuringRead = undefined;
        during?.();
        await new Promise((r) => setTimeout(r, 1));
        return snapshot;
      },
    };
    const feed = new FakeFeed();
    const waiter = new CheckpointWaiter({ store, feed }, { pollIntervalMs: 60_000 });
    waiter.start();
    notifyDuringRead = () => {
      checkpoint = at(2);
      feed.emit('payments');
    };
    const started = Date.now();
    expect(await waiter.waitForPosition('payments', at(2), 2_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    waiter.close();
  });

  it('falls back to polling when a notification is lost', async () => {
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(1));
    const waiter = new CheckpointWaiter({ store, feed: new FakeFeed() }, { pollIntervalMs: 20 });
    const wait = waiter.waitForPosition('payments', at(2), 2_000);
    setTimeout(() => store.checkpoints.set('payments', at(2)), 30);
    const started = Date.now();
    expect(await wait).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    waiter.close();
  });

  it('answers false on timeout, and never waits longer than 5 s', async () => {
    vi.useFakeTimers();
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(1));
    const waiter = new CheckpointWaiter({ store, feed: new FakeFeed() });
    let answer: boolean | undefined;
    void waiter.waitForPosition('payments', at(2), 600_000).then((a) => (answer = a));
    await vi.advanceTimersByTimeAsync(4_900);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(200);
    expect(answer).toBe(false);
    waiter.close();
  });

  it('bounds the number of waiters: beyond it, callers get what is known now', async () => {
    const store = new FakeCheckpoints();
    store.checkpoints.set('payments', at(1));
    const waiter = new CheckpointWaiter({ store, feed: new FakeFeed() }, { maxWaiters: 2, pollIntervalMs: 60_000 });
    const first = waiter.waitForPosition('payments', at(2), 1_000);
    const second = waiter.waitForPosition('payments', at(2), 1_000);
    await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    expect(await waiter.waitForPosition('payments', at(2), 1_000)).toBe(false);
    expect(Date.now() - started).toBeLessThan(200);
    waiter.close();
    expect(await first).toBe(false);
    expect(await second).toBe(false);
  });

  it('answers false for a projection nobody knows, after the timeout', async () => {
    const waiter = new CheckpointWaiter({ store: new FakeCheckpoints(), feed: new FakeFeed() }, { pollIntervalMs: 10 });
    expect(await waiter.waitForPosition('nope', at(1), 30)).toBe(false);
    waiter.close();
  });
});
