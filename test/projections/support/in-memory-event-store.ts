import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamResult,
  RecordedEvent,
  StreamRevision,
  SubscribeOptions,
} from '../../../src/application/ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';
import { START, isAfter, position } from '../../../src/application/ports/position.js';

/** A log in memory: positions n.n for the n-th event (1-based), live subscriptions woken on append. */
export class InMemoryEventStore implements EventStore {
  readonly events: RecordedEvent[] = [];
  private readonly wakers = new Set<() => void>();
  /** Set to make the next subscription read throw (an outage). */
  failReads: Error | undefined;

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    await Promise.resolve();
    const existing = this.events.filter((e) => e.streamId === streamId);
    const actual = existing.length === 0 ? undefined : streamRevision(existing.length - 1);
    if (expected === 'no_stream' && actual !== undefined) throw new WrongExpectedVersion(streamId, expected, actual);
    if (expected === 'stream_exists' && actual === undefined) throw new WrongExpectedVersion(streamId, expected, actual);
    if (typeof expected === 'bigint' && actual !== expected) throw new WrongExpectedVersion(streamId, expected, actual);
    let revision = existing.length;
    for (const e of events) {
      const n = BigInt(this.events.length + 1);
      this.events.push({ ...e, streamId, revision: streamRevision(revision++), position: position(n, n), recordedAt: new Date() });
    }
    for (const wake of [...this.wakers]) wake();
    const last = this.events[this.events.length - 1] as RecordedEvent;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  async readStream(streamId: string, options?: { fromRevision?: StreamRevision; maxCount?: number }): Promise<ReadStreamResult> {
    await Promise.resolve();
    const all = this.events.filter((e) => e.streamId === streamId);
    const from = options?.fromRevision ?? 0n;
    const events = all.filter((e) => e.revision >= from).slice(0, options?.maxCount ?? Infinity);
    return { revision: all.length === 0 ? undefined : streamRevision(all.length - 1), events };
  }

  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    await Promise.resolve();
    const after = options.after ?? START;
    return this.events.filter((e) => isAfter(e.position, after)).slice(0, options.maxCount);
  }

  async *subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]> {
    let cursor: Position | undefined = options.after;
    while (!options.signal.aborted) {
      if (this.failReads) {
        const error = this.failReads;
        this.failReads = undefined;
        throw error;
      }
      const batch = await this.readAll({ after: cursor, maxCount: options.batchSize });
      const last = batch[batch.length - 1];
      if (last) {
        yield batch;
        cursor = last.position;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.wakers.delete(wake);
          options.signal.removeEventListener('abort', wake);
          resolve();
        };
        this.wakers.add(wake);
        options.signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  async headPosition(): Promise<Position | undefined> {
    await Promise.resolve();
    return this.events[this.events.length - 1]?.position;
  }

  async close(): Promise<void> {}
}

/** A new event for tests; `type` decides which projections handle it. */
export function testEvent(type: string, data: unknown = {}): NewEvent {
  return {
    id: crypto.randomUUID(),
    type,
    data,
    metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: new Date(0).toISOString(), schemaVersion: 1 },
  };
}

/**
 * Appends `count` events of `type` (or of the type `type(i)` gives the i-th), `perAppend`
 * to a stream and append, and returns the position of the last one.
 */
export async function appendMany(store: EventStore, count: number, type: string | ((i: number) => string), perAppend = 1): Promise<Position | undefined> {
  let last: Position | undefined;
  for (let i = 0; i < count; i += perAppend) {
    const events = [];
    for (let j = i; j < Math.min(count, i + perAppend); j++) events.push(testEvent(typeof type === 'string' ? type : type(j), { i: j }));
    last = (await store.append(`test-${crypto.randomUUID()}`, events, 'no_stream')).position;
  }
  return last;
}
