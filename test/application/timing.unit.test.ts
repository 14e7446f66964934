import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError, WakeSignal, backoff, jitter, sleep, withTimeout } from '../../src/application/support/timing.js';

describe('timing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('sleep', () => {
    it('resolves after the given time, not before', async () => {
      let done = false;
      const slept = sleep(100).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(99);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await slept;
      expect(done).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('ends early, without rejecting, when its signal aborts, and leaves no timer or listener', async () => {
      const controller = new AbortController();
      const removed = vi.spyOn(controller.signal, 'removeEventListener');
      let done = false;
      const slept = sleep(60_000, controller.signal).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(10);
      expect(done).toBe(false);
      controller.abort();
      await slept;
      expect(done).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
    });

    it('returns at once, with no timer, when the signal is already aborted', async () => {
      await sleep(60_000, AbortSignal.abort());
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('withTimeout', () => {
    it('passes the result through and clears its timer', async () => {
      await expect(withTimeout(Promise.resolve(42), 1_000, 'answer')).resolves.toBe(42);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('passes a rejection through and clears its timer', async () => {
      const failure = new Error('no');
      await expect(withTimeout(Promise.reject(failure), 1_000, 'answer')).rejects.toBe(failure);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('rejects with a TimeoutError naming what timed out once the deadline passes', async () => {
      const never = new Promise<number>(() => undefined);
      const raced = withTimeout(never, 500, 'the ping');
      const outcome = raced.catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(499);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      const error = await outcome;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ what: 'the ping', timeoutMs: 500, message: 'the ping did not finish within 500 ms' });
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('backoff', () => {
    const policy = { minMs: 100, maxMs: 5_000 };

    it('doubles from minMs and stops at maxMs (at the top of the jitter)', () => {
      const top = (): number => 1;
      expect([1, 2, 3, 4, 5, 6, 7, 100].map((attempt) => backoff(attempt, policy, top))).toEqual([100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
    });

    it('jitters down to half of the ceiling, never below, never above', () => {
      expect(backoff(1, policy, () => 0)).toBe(50);
      expect(backoff(7, policy, () => 0)).toBe(2_500);
      for (let attempt = 1; attempt <= 40; attempt++) {
        const wait = backoff(attempt, policy);
        const ceiling = Math.min(policy.maxMs, policy.minMs * 2 ** (attempt - 1));
        expect(wait).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(wait).toBeLessThanOrEqual(ceiling);
      }
    });

    it('treats attempts below 1 as the first and stays finite for huge ones', () => {
      expect(backoff(0, policy, () => 1)).toBe(100);
      expect(backoff(-3, policy, () => 1)).toBe(100);
      expect(backoff(Number.MAX_SAFE_INTEGER, policy, () => 1)).toBe(5_000);
    });
  });

  describe('jitter', () => {
    it('spreads a period by up to ±ratio of itself', () => {
      expect(jitter(10_000, 0.2, () => 0)).toBe(8_000);
      expect(jitter(10_000, 0.2, () => 0.5)).toBe(10_000);
      expect(jitter(10_000, 0.2, () => 1)).toBe(12_000);
      expect(jitter(10_000, 0, () => 1)).toBe(10_000);
    });
  });

  describe('WakeSignal', () => {
    it('ends a wait early on wake(), with true, and leaves no timer', async () => {
      const wakeups = new WakeSignal();
      const waited = wakeups.wait(wakeups.generation, 60_000);
      await vi.advanceTimersByTimeAsync(10);
      wakeups.wake();
      await expect(waited).resolves.toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('returns true at once when woken since the generation read before the look', async () => {
      const wakeups = new WakeSignal();
      const seen = wakeups.generation;
      wakeups.wake();
      await expect(wakeups.wait(seen, 60_000)).resolves.toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('returns false after the timeout or on abort', async () => {
      const wakeups = new WakeSignal();
      const timedOut = wakeups.wait(wakeups.generation, 100);
      await vi.advanceTimersByTimeAsync(100);
      await expect(timedOut).resolves.toBe(false);
      const controller = new AbortController();
      const aborted = wakeups.wait(wakeups.generation, 60_000, controller.signal);
      controller.abort();
      await expect(aborted).resolves.toBe(false);
      await expect(wakeups.wait(wakeups.generation, 60_000, controller.signal)).resolves.toBe(false);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('sleep() is a wait from now: a wake() before it does not cut it short', async () => {
      const wakeups = new WakeSignal();
      wakeups.wake();
      let done = false;
      const slept = wakeups.sleep(100).then((woken) => ((done = true), woken));
      await vi.advanceTimersByTimeAsync(50);
      expect(done).toBe(false);
      wakeups.wake();
      await expect(slept).resolves.toBe(true);
    });
  });
});
