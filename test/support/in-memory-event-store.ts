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
} from '../../src/application/ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../../src/application/ports/event-store.js';
import type { Position } from '../../src/application/ports/position.js';
import { comparePositions, position } from '../../src/application/ports/position.js';

/**
 * A test double for unit tests of handlers and runners: the port's semantics without a
 * server. The real adapters are proved by the contract suite, not by this.
 */
export class InMemoryEventStore implements EventStore {
  readonly log: RecordedEvent[] = [];
  /** Called before each append's check: lets a test slip a concurrent write in. */
  beforeAppend: ((streamId: string) => Promise<void> | void) | undefined;

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    await this.beforeAppend?.(streamId);
    const existing = this.log.filter((e) => e.streamId === streamId);
    const first = events[0];
    if (first) {
      const prior = existing.find((e) => e.id === first.id);
      if (prior) {
        const last = existing.find((e) => e.id === events.at(-1)?.id) ?? prior;
        return { nextExpectedRevision: last.revision, position: last.position };
      }
    }
    const actual = existing.at(-1)?.revision;
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === undefined) ||
      (expected === 'stream_exists' && actual !== undefined) ||
      (typeof expected === 'bigint' && actual === expected);
    if (!ok) throw new WrongExpectedVersion(streamId, expected, actual);
    let revision = actual === undefined ? -1n : (actual as bigint);
    let last: RecordedEvent | undefined;
    for (const e of events) {
      revision += 1n;
      last = {
        id: e.id,
        type: e.type,
        streamId,
        revision: streamRevision(revision),
        position: position(BigInt(this.log.length + 1), BigInt(this.log.length + 1)),
        data: structuredClone(e.data),
        metadata: e.metadata,
        recordedAt: new Date(),
      };
      this.log.push(last);
    }
    if (!last) throw new Error('empty append');
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  readStream(streamId: string, options?: { fromRevision?: StreamRevision; maxCount?: number }): Promise<ReadStreamResult> {
    const all = this.log.filter((e) => e.streamId === streamId);
    const from = options?.fromRevision ?? 0n;
    const events = all.filter((e) => e.revision >= from).slice(0, options?.maxCount ?? Number.MAX_SAFE_INTEGER);
    return Promise.resolve({ revision: all.at(-1)?.revision, events });
  }

  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    const after = options.after;
    return Promise.resolve(this.log.filter((e) => !after || comparePositions(e.position, after) > 0).slice(0, options.maxCount));
  }

  async *subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]> {
    let after: Position | undefined = options.after;
    while (!options.signal.aborted) {
      const batch = await this.readAll({ after, maxCount: options.batchSize });
      if (batch.length > 0) {
        after = batch.at(-1)?.position;
        yield batch;
      } else {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  headPosition(): Promise<Position | undefined> {
    return Promise.resolve(this.log.at(-1)?.position);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
