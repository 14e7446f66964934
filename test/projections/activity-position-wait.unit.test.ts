import { describe, expect, it } from 'vitest';
import { START, position } from '../../src/application/ports/position.js';
import { waitForActivityPosition } from '../../src/projections/activity/activity-position-wait.js';
import { InMemoryActivityFeed } from '../activity-feed/in-memory-activity-feed.js';

describe('waitForActivityPosition', () => {
  it('answers true once the live checkpoint reaches the position, false when the deadline passes first', async () => {
    const feed = new InMemoryActivityFeed();
    const target = position(5n, 5n);
    const started = Date.now();
    expect(await waitForActivityPosition(feed, target, 120)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    const waiting = waitForActivityPosition(feed, target, 2_000);
    setTimeout(() => void feed.advance(1, START, position(6n, 0n)), 60);
    expect(await waiting).toBe(true);
    expect(await waitForActivityPosition(feed, START, 0)).toBe(true);
  });
});
