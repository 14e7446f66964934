import { afterEach, describe, expect, it, vi } from 'vitest';
import { OwnerLookupUnavailable, PaymentOwners } from '../../src/infrastructure/realtime/payment-owners.js';
import type { Queryable } from '../../src/infrastructure/realtime/change-feed-sql.js';
import { silentLogger } from '../../src/infrastructure/realtime/logger.js';

/** A fake pool: records each query's ids and answers from `owners` (or as `behaviour` says). */
function fakeDb(owners: Record<string, string>) {
  const queries: string[][] = [];
  let behaviour: 'answer' | 'fail' | 'hang' = 'answer';
  const hanging: Array<() => void> = [];
  const db = {
    query: (text: string, values: [string[]]) => {
      expect(text).toMatch(/FROM rm_payments\.payments WHERE id = ANY/);
      const ids = values[0];
      queries.push(ids);
      const answer = { rows: ids.filter((id) => id in owners).map((id) => ({ id, customer_id: owners[id] })) };
      if (behaviour === 'fail') return Promise.reject(new Error('connection refused'));
      if (behaviour === 'hang') return new Promise((resolve) => hanging.push(() => resolve(answer)));
      return Promise.resolve(answer);
    },
  } as unknown as Queryable;
  return {
    db,
    queries,
    set: (b: typeof behaviour) => (behaviour = b),
    releaseHanging: () => hanging.splice(0).forEach((f) => f()),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PaymentOwners', () => {
  it('batches the lookups of one turn into one query and shares concurrent lookups of an id', async () => {
    const fake = fakeDb({ pay_1: 'cus_a', pay_2: 'cus_b' });
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger });
    const answers = await Promise.all(['pay_1', 'pay_2', 'pay_3', 'pay_1'].map((id) => owners.ownerOf(id)));
    expect(answers).toEqual(['cus_a', 'cus_b', undefined, 'cus_a']);
    expect(fake.queries).toEqual([['pay_1', 'pay_2', 'pay_3']]);
    expect(owners.pending).toBe(0);
  });

  it('splits a large batch into queries of maxBatch ids', async () => {
    const fake = fakeDb({});
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger, maxBatch: 2 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => owners.ownerOf(id)));
    expect(fake.queries).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('caches owners for ttlMs and "not found" for negativeTtlMs', async () => {
    let now = 1_000;
    const fake = fakeDb({ pay_1: 'cus_a' });
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger, now: () => now, ttlMs: 60_000, negativeTtlMs: 1_000 });
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
    expect(await owners.ownerOf('pay_2')).toBeUndefined();
    expect(fake.queries).toHaveLength(2);
    now += 500;
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
    expect(await owners.ownerOf('pay_2')).toBeUndefined();
    expect(fake.queries).toHaveLength(2);
    now += 600; // the negative entry has expired, the positive one has not
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
    expect(await owners.ownerOf('pay_2')).toBeUndefined();
    expect(fake.queries).toEqual([['pay_1'], ['pay_2'], ['pay_2']]);
    now += 60_000;
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
    expect(fake.queries).toHaveLength(4);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const fake = fakeDb({ a: 'c', b: 'c', c: 'c' });
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger, maxEntries: 2 });
    await owners.ownerOf('a');
    await owners.ownerOf('b');
    await owners.ownerOf('c'); // evicts a
    expect(fake.queries).toHaveLength(3);
    await owners.ownerOf('c');
    await owners.ownerOf('b');
    expect(fake.queries).toHaveLength(3);
    await owners.ownerOf('a');
    expect(fake.queries).toHaveLength(4);
  });

  it('fails as unavailable when the query fails, and does not cache the failure', async () => {
    const fake = fakeDb({ pay_1: 'cus_a' });
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger });
    fake.set('fail');
    await expect(owners.ownerOf('pay_1')).rejects.toBeInstanceOf(OwnerLookupUnavailable);
    fake.set('answer');
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
  });

  it('fails as unavailable after timeoutMs, and refuses new ids past maxPending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const fake = fakeDb({ pay_1: 'cus_a' });
    const owners = new PaymentOwners({ db: fake.db, logger: silentLogger, timeoutMs: 2_000, maxPending: 2, maxConcurrentQueries: 1 });
    fake.set('hang');
    const first = owners.ownerOf('pay_1');
    const second = owners.ownerOf('pay_2');
    await expect(owners.ownerOf('pay_3')).rejects.toBeInstanceOf(OwnerLookupUnavailable);
    const settled = Promise.allSettled([first, second]);
    await vi.advanceTimersByTimeAsync(2_001);
    expect((await settled).map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(owners.pending).toBe(2); // still queried; the answer will fill the cache
    fake.set('answer');
    fake.releaseHanging();
    await vi.waitFor(() => expect(owners.pending).toBe(0));
    expect(await owners.ownerOf('pay_1')).toBe('cus_a');
    expect(fake.queries).toHaveLength(1);
  });
});

describe('PaymentOwners for refunds', () => {
  it('looks refunds up in the refunds read model, by the customer each refund carries', async () => {
    const texts: string[] = [];
    const db = {
      query: (text: string, values: [string[]]) => {
        texts.push(text);
        return Promise.resolve({ rows: values[0].filter((id) => id === 're_1').map((id) => ({ id, customer_id: 'cus_a' })) });
      },
    } as unknown as Queryable;
    const owners = new PaymentOwners({ db, logger: silentLogger, resource: 'refund' });
    expect(await Promise.all([owners.ownerOf('re_1'), owners.ownerOf('re_2')])).toEqual(['cus_a', undefined]);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/FROM rm_refunds\.refunds WHERE id = ANY/);
  });

  it.each([
    ['subscription', 'sub_1', /FROM rm_billing\.subscriptions WHERE id = ANY/],
    ['invoice', 'in_1', /FROM rm_billing\.invoices WHERE id = ANY/],
  ] as const)('looks %ss up in the billing read model, by the customer each row carries', async (resource, id, table) => {
    const texts: string[] = [];
    const db = {
      query: (text: string, values: [string[]]) => {
        texts.push(text);
        return Promise.resolve({ rows: values[0].filter((v) => v === id).map((v) => ({ id: v, customer_id: 'cus_a' })) });
      },
    } as unknown as Queryable;
    const owners = new PaymentOwners({ db, logger: silentLogger, resource });
    expect(await Promise.all([owners.ownerOf(id), owners.ownerOf(`${id}x`), owners.ownerOf(id)])).toEqual(['cus_a', undefined, 'cus_a']);
    // Cached: asked again, no second query.
    expect(await owners.ownerOf(id)).toBe('cus_a');
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(table);
  });

  it('says which lookup failed', async () => {
    const db = { query: () => Promise.reject(new Error('connection refused')) } as unknown as Queryable;
    const owners = new PaymentOwners({ db, logger: silentLogger, resource: 'refund' });
    await expect(owners.ownerOf('re_1')).rejects.toThrow(new OwnerLookupUnavailable('could not look up the refund'));
  });
});
