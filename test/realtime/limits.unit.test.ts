import { describe, expect, it } from 'vitest';
import { Semaphore, SlidingWindowCounter, TokenBucket } from '../../src/infrastructure/realtime/limits.js';

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    let now = 1_000;
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2, now: () => now });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    now += 499;
    expect(bucket.tryTake()).toBe(false);
    now += 1;
    expect(bucket.tryTake()).toBe(true);
    now += 60_000; // a long pause refills only up to capacity
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  });

  it('survives a clock that steps back', () => {
    let now = 10_000;
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, now: () => now });
    expect(bucket.tryTake()).toBe(true);
    now -= 5_000;
    expect(bucket.tryTake()).toBe(false);
    now += 1_000;
    expect(bucket.tryTake()).toBe(true);
  });
});

describe('Semaphore', () => {
  it('lets n holders in and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = semaphore.acquire().then((release) => {
      order.push('d');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    a(); // releasing twice must not mint a permit
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    const e = await semaphore.acquire();
    const f = await semaphore.acquire();
    let thirdIn = false;
    void semaphore.acquire().then(() => (thirdIn = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(thirdIn).toBe(false);
    e();
    f();
  });
});

describe('SlidingWindowCounter', () => {
  it('trips on the max-th event within the window, and forgets events that left it', () => {
    let now = 0;
    const counter = new SlidingWindowCounter({ max: 3, windowMs: 1_000, now: () => now });
    expect(counter.record()).toBe(false);
    now = 400;
    expect(counter.record()).toBe(false);
    now = 1_000; // the first event has left the window
    expect(counter.record()).toBe(false);
    now = 1_300;
    expect(counter.record()).toBe(true);
    now = 5_000;
    expect(counter.record()).toBe(false);
  });

  it('refuses nonsense bounds', () => {
    expect(() => new SlidingWindowCounter({ max: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new SlidingWindowCounter({ max: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
