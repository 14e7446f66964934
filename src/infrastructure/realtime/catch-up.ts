import { isAfter, type PositionParts } from '../../application/ports/position.js';
import type { FeedChange } from './change-feed-sql.js';

/**
 * One `subscribe` with `since` while its backlog is being read. The tailer's cursor was
 * `upToId` when it began: the backlog query covers ids up to there, and live changes
 * after it are buffered here instead of reaching the socket through a room. Backlog, then
 * buffer, then join the rooms (all synchronously) gives every change exactly once, in
 * id order, with no gap between history and live.
 */
export class CatchUp {
  /** Topics still wanted; an `unsubscribe` meanwhile removes them. */
  readonly topics: Set<string>;
  readonly upToId: bigint;
  readonly since: PositionParts;
  readonly #maxBuffered: number;
  #buffer: FeedChange[] = [];
  #overflowed = false;

  constructor(topics: Iterable<string>, upToId: bigint, since: PositionParts, maxBuffered: number) {
    this.topics = new Set(topics);
    this.upToId = upToId;
    this.since = since;
    this.#maxBuffered = maxBuffered;
  }

  /** The buffer outgrew its bound: the subscription is refused and must be retried. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  offer(change: FeedChange): void {
    if (this.#overflowed || change.id <= this.upToId || !this.topics.has(change.message.topic)) return;
    if (this.#buffer.length >= this.#maxBuffered) {
      // Drop what we hold at once: a slow backlog query must not let memory grow.
      this.#overflowed = true;
      this.#buffer = [];
      return;
    }
    this.#buffer.push(change);
  }

  /**
   * What the socket must receive, in order: the backlog (ids up to upToId), then the
   * buffered live changes, both limited to the topics still wanted and to positions after
   * `since` (a live change can be at or before `since` when the read model lags behind
   * the position the client already knows).
   */
  drain(backlog: readonly FeedChange[]): FeedChange[] {
    const out: FeedChange[] = [];
    for (const change of backlog) {
      if (change.id <= this.upToId && this.topics.has(change.message.topic)) out.push(change);
    }
    for (const change of this.#buffer) {
      if (this.topics.has(change.message.topic) && isAfter(change.at, this.since)) out.push(change);
    }
    this.#buffer = [];
    return out;
  }
}

/** The catch-ups in progress in this process, by topic, so the tailer finds them in O(1). */
export class CatchUpRegistry {
  readonly #byTopic = new Map<string, Set<CatchUp>>();

  add(catchUp: CatchUp): void {
    for (const topic of catchUp.topics) {
      let set = this.#byTopic.get(topic);
      if (!set) this.#byTopic.set(topic, (set = new Set()));
      set.add(catchUp);
    }
  }

  /** Stops buffering `topic` for this catch-up (an unsubscribe arrived meanwhile). */
  dropTopic(catchUp: CatchUp, topic: string): void {
    catchUp.topics.delete(topic);
    this.#unindex(catchUp, topic);
  }

  remove(catchUp: CatchUp): void {
    for (const topic of catchUp.topics) this.#unindex(catchUp, topic);
  }

  /** Buffers a live change for every catch-up waiting on its topic. */
  offer(change: FeedChange): void {
    const set = this.#byTopic.get(change.message.topic);
    if (!set) return;
    for (const catchUp of set) catchUp.offer(change);
  }

  /** (topic, catch-up) pairs indexed; zero when nothing is catching up. */
  get entries(): number {
    let n = 0;
    for (const set of this.#byTopic.values()) n += set.size;
    return n;
  }

  #unindex(catchUp: CatchUp, topic: string): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    set.delete(catchUp);
    if (set.size === 0) this.#byTopic.delete(topic);
  }
}
