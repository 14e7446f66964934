import type { ActivityEntry, ActivityFeedState, ActivityFeedStore, ActivityPageRequest, ActivityRecord } from '../../src/application/ports/activity-feed.js';
import type { Position } from '../../src/application/ports/position.js';
import { START, comparePositions, parsePosition } from '../../src/application/ports/position.js';

interface Shared {
  live: number;
  next: number;
  checkpoints: Map<number, Position>;
  generations: Map<number, Map<string, ActivityRecord>>;
}

/**
 * The activity feed in memory, for unit tests of the runner; it runs through the same
 * contract suite as the MongoDB and PostgreSQL adapters (in-memory-activity-feed.unit.test.ts).
 */
export class InMemoryActivityFeed implements ActivityFeedStore {
  private readonly shared: Shared;
  /** Thrown by the next insert (after nothing was written), as a MongoDB outage would. */
  failNextInsert: Error | undefined;
  /** Thrown by the next advance, after the entries were written: the crash this design must survive. */
  failNextAdvance: Error | undefined;

  constructor(sharing?: InMemoryActivityFeed) {
    this.shared = sharing?.shared ?? { live: 1, next: 2, checkpoints: new Map([[1, START]]), generations: new Map([[1, new Map()]]) };
  }

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  state(): Promise<ActivityFeedState> {
    return Promise.resolve({ live: this.shared.live, checkpoint: this.shared.checkpoints.get(this.shared.live) ?? START });
  }

  checkpointOf(generation: number): Promise<Position | undefined> {
    return Promise.resolve(this.shared.checkpoints.get(generation));
  }

  insert(generation: number, records: readonly ActivityRecord[]): Promise<void> {
    const failure = this.failNextInsert;
    this.failNextInsert = undefined;
    if (failure) return Promise.reject(failure);
    let entries = this.shared.generations.get(generation);
    if (!entries) this.shared.generations.set(generation, (entries = new Map<string, ActivityRecord>()));
    for (const r of records) if (!entries.has(r.entry.id)) entries.set(r.entry.id, structuredClone(r));
    return Promise.resolve();
  }

  advance(generation: number, from: Position, to: Position): Promise<boolean> {
    const failure = this.failNextAdvance;
    this.failNextAdvance = undefined;
    if (failure) return Promise.reject(failure);
    const at = this.shared.checkpoints.get(generation);
    if (!at || comparePositions(at, from) !== 0) return Promise.resolve(false);
    this.shared.checkpoints.set(generation, to);
    return Promise.resolve(true);
  }

  page(request: ActivityPageRequest): Promise<ActivityEntry[]> {
    const entries = [...(this.shared.generations.get(this.shared.live)?.values() ?? [])]
      .filter((r) => r.customerId === request.customerId)
      .map((r) => ({ entry: r.entry, at: parsePosition(r.entry.position) as Position }))
      .filter((e) => !request.beforePosition || comparePositions(e.at, request.beforePosition) < 0)
      .sort((a, b) => comparePositions(b.at, a.at))
      .slice(0, request.limit);
    return Promise.resolve(entries.map((e) => structuredClone(e.entry)));
  }

  createGeneration(): Promise<number> {
    const generation = this.shared.next++;
    for (const g of [...this.shared.checkpoints.keys()]) if (g !== this.shared.live) this.shared.checkpoints.delete(g);
    this.shared.checkpoints.set(generation, START);
    this.dropRetired();
    return Promise.resolve(generation);
  }

  switchLive(generation: number): Promise<void> {
    this.shared.checkpoints.delete(this.shared.live);
    this.shared.live = generation;
    this.dropRetired();
    return Promise.resolve();
  }

  private dropRetired(): void {
    for (const g of [...this.shared.generations.keys()]) if (!this.shared.checkpoints.has(g)) this.shared.generations.delete(g);
  }

  /** Every entry of the live generation, for assertions. */
  liveCount(): number {
    return this.shared.generations.get(this.shared.live)?.size ?? 0;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

