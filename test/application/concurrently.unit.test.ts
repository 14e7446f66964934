import { describe, expect, it } from 'vitest';
import { mapConcurrently } from '../../src/application/support/concurrently.js';

describe('mapConcurrently', () => {
  it('keeps item order, and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure only once every started item has settled, and starts no more after it', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = mapConcurrently([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 20));
      settled++;
      if (n === 1) throw new Error('one');
      return n;
    });
    await expect(run).rejects.toThrow('one');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });

  it('runs nothing for no items', async () => {
    expect(await mapConcurrently([], 4, () => Promise.reject(new Error('never')))).toEqual([]);
  });
});
