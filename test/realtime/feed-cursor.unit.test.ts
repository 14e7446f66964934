import { describe, expect, it } from 'vitest';
import type { FeedChange, FeedRead } from '../../src/infrastructure/realtime/change-feed-sql.js';
import { advance, type GapPolicy, type Witness } from '../../src/infrastructure/realtime/feed-cursor.js';

const policy: GapPolicy = { graceMs: 100, maxWaitMs: 30_000 };

const change = (id: number): FeedChange => ({
  id: BigInt(id),
  at: { commit: BigInt(id), prepare: BigInt(id) },
  message: { topic: 'ledger', type: 't', position: `${id}.${id}`, data: null },
});

const read = (ids: number[], snapshot: string, witnessSettled = true): FeedRead => ({ changes: ids.map(change), snapshot, witnessSettled });
const ids = (changes: readonly FeedChange[]): number[] => changes.map((c) => Number(c.id));

describe('advance', () => {
  it('delivers a contiguous run and needs no witness', () => {
    const step = advance(4n, read([5, 6, 7], 's1'), undefined, 0, policy);
    expect(ids(step.deliver)).toEqual([5, 6, 7]);
    expect(step).toMatchObject({ lastId: 7n, witness: undefined, blocked: false, skipped: [] });
  });

  it('stops at a hole and makes this read the witness', () => {
    const step = advance(4n, read([5, 7, 8], 's1'), undefined, 1_000, policy);
    expect(ids(step.deliver)).toEqual([5]);
    expect(step).toMatchObject({ lastId: 5n, blocked: true, witness: { snapshot: 's1', coversId: 8n, seenAt: 1_000 } });
  });

  it('delivers in order once the late row shows up', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 1_000 };
    const step = advance(5n, read([6, 7, 8, 9], 's2', false), witness, 1_010, policy);
    expect(ids(step.deliver)).toEqual([6, 7, 8, 9]);
    expect(step).toMatchObject({ lastId: 9n, witness: undefined, blocked: false });
  });

  it('keeps waiting while the witness has transactions in progress', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 1_000 };
    const step = advance(5n, read([7, 8], 's2', false), witness, 5_000, policy);
    expect(step.deliver).toEqual([]);
    expect(step).toMatchObject({ lastId: 5n, blocked: true, witness });
  });

  it('waits out the grace period even when settled', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 1_000 };
    expect(advance(5n, read([7, 8], 's2', true), witness, 1_050, policy).blocked).toBe(true);
  });

  it('skips a hole proven empty (rolled back) and goes on', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 1_000 };
    const step = advance(5n, read([7, 8, 9], 's2', true), witness, 1_100, policy);
    expect(ids(step.deliver)).toEqual([7, 8, 9]);
    expect(step.skipped).toEqual([{ from: 6n, to: 6n, forced: false }]);
    expect(step).toMatchObject({ lastId: 9n, witness: undefined, blocked: false });
  });

  it('skips several holes under the same witness', () => {
    const witness: Witness = { snapshot: 's1', coversId: 20n, seenAt: 0 };
    const step = advance(1n, read([3, 4, 8, 20], 's2', true), witness, 1_000, policy);
    expect(ids(step.deliver)).toEqual([3, 4, 8, 20]);
    expect(step.skipped.map((r) => [r.from, r.to])).toEqual([
      [2n, 2n],
      [5n, 7n],
      [9n, 19n],
    ]);
  });

  it('does not let a witness vouch for holes above what it saw', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 0 };
    const step = advance(8n, read([10], 's3', true), witness, 1_000, policy);
    expect(step.deliver).toEqual([]);
    expect(step).toMatchObject({ lastId: 8n, blocked: true, witness: { snapshot: 's3', coversId: 10n, seenAt: 1_000 } });
  });

  it('gives up after maxWaitMs and says the skip was forced', () => {
    const witness: Witness = { snapshot: 's1', coversId: 8n, seenAt: 0 };
    const step = advance(5n, read([7, 8], 's2', false), witness, 30_000, policy);
    expect(ids(step.deliver)).toEqual([7, 8]);
    expect(step.skipped).toEqual([{ from: 6n, to: 6n, forced: true }]);
  });

  it('returns an empty step for an empty read', () => {
    expect(advance(3n, read([], 's'), undefined, 0, policy)).toMatchObject({ deliver: [], lastId: 3n, blocked: false });
  });
});
