import { describe, expect, it } from 'vitest';
import { CatchUp, CatchUpRegistry } from '../../src/infrastructure/realtime/catch-up.js';
import type { FeedChange } from '../../src/infrastructure/realtime/change-feed-sql.js';

const change = (id: number, topic: string, pos = id): FeedChange => ({
  id: BigInt(id),
  at: { commit: BigInt(pos), prepare: 0n },
  message: { topic, type: 't', position: `${pos}.0`, data: { id } },
});

describe('CatchUp', () => {
  it('drains backlog then buffer, for the wanted topics, after since', () => {
    const registry = new CatchUpRegistry();
    const catchUp = new CatchUp(['a', 'b'], 10n, { commit: 3n, prepare: 0n }, 100);
    registry.add(catchUp);
    registry.offer(change(9, 'a')); // at or below upToId: the backlog has it
    registry.offer(change(11, 'a'));
    registry.offer(change(12, 'c')); // another topic
    registry.offer(change(13, 'b', 2)); // at or before since: the client has it
    registry.offer(change(14, 'b'));
    const backlog = [change(4, 'a'), change(7, 'b')];
    expect(catchUp.drain(backlog).map((c) => Number(c.id))).toEqual([4, 7, 11, 14]);
  });

  it('forgets a topic dropped while catching up', () => {
    const registry = new CatchUpRegistry();
    const catchUp = new CatchUp(['a', 'b'], 0n, { commit: 0n, prepare: 0n }, 100);
    registry.add(catchUp);
    registry.offer(change(1, 'a'));
    registry.dropTopic(catchUp, 'a');
    registry.offer(change(2, 'a'));
    registry.offer(change(3, 'b'));
    expect(catchUp.drain([]).map((c) => Number(c.id))).toEqual([3]);
    registry.remove(catchUp);
    expect(registry.entries).toBe(0);
  });

  it('overflows instead of growing past its bound', () => {
    const registry = new CatchUpRegistry();
    const catchUp = new CatchUp(['a'], 0n, { commit: 0n, prepare: 0n }, 2);
    registry.add(catchUp);
    registry.offer(change(1, 'a'));
    registry.offer(change(2, 'a'));
    expect(catchUp.overflowed).toBe(false);
    registry.offer(change(3, 'a'));
    expect(catchUp.overflowed).toBe(true);
    expect(catchUp.buffered).toBe(0);
    registry.offer(change(4, 'a'));
    expect(catchUp.buffered).toBe(0);
  });

  it('indexes several catch-ups on one topic independently', () => {
    const registry = new CatchUpRegistry();
    const first = new CatchUp(['a'], 0n, { commit: 0n, prepare: 0n }, 10);
    const second = new CatchUp(['a'], 5n, { commit: 0n, prepare: 0n }, 10);
    registry.add(first);
    registry.add(second);
    registry.offer(change(5, 'a'));
    registry.offer(change(6, 'a'));
    expect(first.drain([]).map((c) => Number(c.id))).toEqual([5, 6]);
    expect(second.drain([]).map((c) => Number(c.id))).toEqual([6]);
    registry.remove(first);
    registry.remove(second);
    expect(registry.entries).toBe(0);
  });
});
