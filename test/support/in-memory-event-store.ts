// One namespace for the port: the fake implements all of it, by the port's own names.
import * as port from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { START, isAfter, position } from '../../src/application/ports/position.js';

/**
 * A test double for unit tests of handlers and runners: the port's semantics without a
 * server (the real adapters are proved by the contract suite). A log in memory: positions n.n for the n-th event (1-based), live subscriptions woken on append.
 */
export class InMemoryEventStore implements port.EventStore {
  readonly events: port.RecordedEvent[] = [];
  private readonly wakers = new Set<() => void>();
  /** Set to make the next subscription read throw (an outage). */
  failReads: Error | undefined;
  /** Called before each append's check: lets a test slip a concurrent write in. */
  beforeAppend: ((streamId: string) => Promise<void> | void) | undefined;

  async append(streamId: string, events: readonly port.NewEvent[], expected: port.ExpectedRevision): Promise<port.AppendResult> {
    await Promise.resolve();
    await this.beforeAppend?.(streamId);
    const existing = this.events.filter((e) => e.streamId === streamId);
    // The same event ids again: the same write, answered with its original result.
    const replayed = existing.find((e) => e.id === events.at(-1)?.id);
    if (replayed) return { nextExpectedRevision: replayed.revision, position: replayed.position };
    const actual = existing.length === 0 ? undefined : port.streamRevision(existing.length - 1);
    if (expected === 'no_stream' && actual !== undefined) throw new port.WrongExpectedVersion(streamId, expected, actual);
    if (expected === 'stream_exists' && actual === undefined) throw new port.WrongExpectedVersion(streamId, expected, actual);
    if (typeof expected === 'bigint' && actual !== expected) throw new port.WrongExpectedVersion(streamId, expected, actual);
    let revision = existing.length;
    for (const e of events) {
      const n = BigInt(this.events.length + 1);
      this.events.push({ ...e, streamId, revision: port.streamRevision(revision++), position: position(n, n), recordedAt: new Date() });
    }
    for (const wake of [...this.wakers]) wake();
    const last = this.events[this.events.length - 1] as port.RecordedEvent;
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  async readStream(streamId: string, options?: { fromRevision?: port.StreamRevision; maxCount?: number }): Promise<port.ReadStreamResult> {
    await Promise.resolve();
    const all = this.events.filter((e) => e.streamId === streamId);
    const from = options?.fromRevision ?? 0n;
    const events = all.filter((e) => e.revision >= from).slice(0, options?.maxCount ?? Infinity);
    return { revision: all.length === 0 ? undefined : port.streamRevision(all.length - 1), events };
  }

  async readAll(options: port.ReadAllOptions): Promise<readonly port.RecordedEvent[]> {
    await Promise.resolve();
    const after = options.after ?? START;
    return this.events.filter((e) => isAfter(e.position, after)).slice(0, options.maxCount);
  }

  async *subscribeToAll(options: port.SubscribeOptions): AsyncIterable<readonly port.RecordedEvent[]> {
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
