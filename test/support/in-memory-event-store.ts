// One namespace for the port's types: the fake implements all of it, by the port's own names.
import type * as port from '../../src/application/ports/event-store.js';
import { IdempotencyViolation, WrongExpectedVersion, streamRevision } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { START, isAfter, position } from '../../src/application/ports/position.js';
import { appendParams } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';

/** What several instances share, as several service instances share one database. */
interface SharedLog {
  readonly events: port.RecordedEvent[];
  readonly wakers: Set<() => void>;
}

/**
 * A test double for unit tests of handlers and runners: the port's semantics without a
 * server. test/event-store/in-memory-event-store.unit.test.ts runs it through the same
 * contract suite as the real adapters, so a unit test built on it proves something.
 * Positions are n.n for the n-th event (1-based); live subscriptions are woken on append.
 */
export class InMemoryEventStore implements port.EventStore {
  readonly events: port.RecordedEvent[];
  private readonly log: SharedLog;
  /** Stops this instance's subscriptions on close; other instances of the log go on. */
  private readonly closing = new AbortController();
  /** Set to make the next subscription read throw (an outage). */
  failReads: Error | undefined;
  /** Called before each append's check: lets a test slip a concurrent write in. */
  beforeAppend: ((streamId: string) => Promise<void> | void) | undefined;

  /** With `sharing`: another instance over that store's log (a second service instance). */
  constructor(sharing?: InMemoryEventStore) {
    this.log = sharing?.log ?? { events: [], wakers: new Set() };
    this.events = this.log.events;
  }

  async append(streamId: string, events: readonly port.NewEvent[], expected: port.ExpectedRevision): Promise<port.AppendResult> {
    this.assertOpen();
    // Refused exactly as the PostgreSQL adapter refuses them: by its own check.
    appendParams(streamId, events, expected);
    await Promise.resolve();
    await this.beforeAppend?.(streamId);
    const existing = this.events.filter((e) => e.streamId === streamId);
    const replayed = this.findReplay(streamId, events);
    if (replayed) return { nextExpectedRevision: replayed.revision, position: replayed.position, replayed: true };
    const actual = existing.length === 0 ? undefined : streamRevision(existing.length - 1);
    if (expected === 'no_stream' && actual !== undefined) throw new WrongExpectedVersion(streamId, expected, actual);
    if (expected === 'stream_exists' && actual === undefined) throw new WrongExpectedVersion(streamId, expected, actual);
    if (typeof expected === 'bigint' && actual !== expected) throw new WrongExpectedVersion(streamId, expected, actual);
    let revision = existing.length;
    for (const e of events) {
      const n = BigInt(this.events.length + 1);
      // Stored as JSON, as the real adapters store it: what reads return is what a database gives back.
      const data = JSON.parse(JSON.stringify(e.data) ?? 'null') as unknown;
      const metadata = JSON.parse(JSON.stringify(e.metadata)) as port.NewEvent['metadata'];
      this.events.push({ id: e.id.toLowerCase(), type: e.type, data, metadata, streamId, revision: streamRevision(revision++), position: position(n, n), recordedAt: new Date() });
    }
    for (const wake of [...this.log.wakers]) wake();
    const last = this.events[this.events.length - 1] as port.RecordedEvent;
    return { nextExpectedRevision: last.revision, position: last.position, replayed: false };
  }

  async readStream(streamId: string, options?: { fromRevision?: port.StreamRevision; maxCount?: number }): Promise<port.ReadStreamResult> {
    this.assertOpen();
    const from = options?.fromRevision ?? 0n;
    if (typeof from !== 'bigint' || from < 0n) throw new RangeError('fromRevision must be a non-negative bigint');
    const maxCount = options?.maxCount === undefined ? Infinity : checkCount(options.maxCount, 'maxCount', 0);
    await Promise.resolve();
    const all = this.events.filter((e) => e.streamId === streamId);
    const events = all.filter((e) => e.revision >= from).slice(0, maxCount);
    return { revision: all.length === 0 ? undefined : streamRevision(all.length - 1), events };
  }

  async readAll(options: port.ReadAllOptions): Promise<readonly port.RecordedEvent[]> {
    this.assertOpen();
    const maxCount = checkCount(options.maxCount, 'maxCount', 0);
    await Promise.resolve();
    const after = options.after ?? START;
    return this.events.filter((e) => isAfter(e.position, after)).slice(0, maxCount);
  }

  async *subscribeToAll(options: port.SubscribeOptions): AsyncIterable<readonly port.RecordedEvent[]> {
    this.assertOpen();
    const batchSize = checkCount(options.batchSize, 'batchSize', 1);
    const stopped = (): boolean => options.signal.aborted || this.closing.signal.aborted;
    let cursor: Position | undefined = options.after;
    while (!stopped()) {
      if (this.failReads) {
        const error = this.failReads;
        this.failReads = undefined;
        throw error;
      }
      const batch = await this.readAll({ after: cursor, maxCount: batchSize });
      if (stopped()) return;
      const last = batch[batch.length - 1];
      if (last) {
        yield batch;
        cursor = last.position;
        continue;
      }
      await this.nextAppend(options.signal);
    }
  }

  async headPosition(): Promise<Position | undefined> {
    this.assertOpen();
    await Promise.resolve();
    return this.events[this.events.length - 1]?.position;
  }

  async close(): Promise<void> {
    await Promise.resolve();
    this.closing.abort();
  }

  /**
   * The earlier result when these ids were this same write (all of them, in this stream, in
   * this order, with these types), whatever the expected revision: a retried command that
   * re-read its stream expects a later revision and is still the same write.
   */
  private findReplay(streamId: string, events: readonly port.NewEvent[]): port.RecordedEvent | undefined {
    const found = events.map((e) => this.events.find((r) => r.id === e.id.toLowerCase()));
    if (found.every((r) => r === undefined)) return undefined;
    const first = found[0];
    const sameWrite =
      first !== undefined &&
      found.every((r, i) => r !== undefined && r.streamId === streamId && r.type === events[i]!.type && r.revision === first.revision + BigInt(i));
    if (!sameWrite) {
      const present = found.filter((r) => r !== undefined).length;
      throw new IdempotencyViolation(`stream ${streamId}: ${present} of ${events.length} event ids were already written, not as this same write`);
    }
    return found[found.length - 1];
  }

  /** Resolves on the next append to the log, an abort or this instance's close. */
  private nextAppend(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.log.wakers.delete(wake);
        signal.removeEventListener('abort', wake);
        this.closing.signal.removeEventListener('abort', wake);
        resolve();
      };
      this.log.wakers.add(wake);
      signal.addEventListener('abort', wake, { once: true });
      this.closing.signal.addEventListener('abort', wake, { once: true });
    });
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new Error('InMemoryEventStore is closed');
  }
}

function checkCount(n: number, what: string, min: 0 | 1): number {
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`);
  return n;
}
