import type { AppendOptions, AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, ReadStreamResult, RecordedEvent, StreamRevision, SubscribeOptions } from '../../application/ports/event-store.js';
import { WrongExpectedVersion } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';

/** Satisfied by LedgerMetrics. */
export interface AppendMetrics {
  startAppend(): (outcome: { readonly conflict: boolean }) => void;
}

/**
 * An EventStore that times every append and counts its conflicts, in front of whichever
 * adapter serves the port: the adapters stay free of metrics, and both are measured the
 * same way. Everything else passes straight through.
 */
export class InstrumentedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly metrics: AppendMetrics,
  ) {}

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult> {
    const done = this.metrics.startAppend();
    try {
      const result = await this.inner.append(streamId, events, expected, options);
      done({ conflict: false });
      return result;
    } catch (error) {
      done({ conflict: error instanceof WrongExpectedVersion });
      throw error;
    }
  }

  readStream(streamId: string, options?: { fromRevision?: StreamRevision; maxCount?: number }): Promise<ReadStreamResult> {
    return this.inner.readStream(streamId, options);
  }

  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]> {
    return this.inner.subscribeToAll(options);
  }

  headPosition(): Promise<Position | undefined> {
    return this.inner.headPosition();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `store`, with its appends timed and conflicts counted in `metrics`. */
export const instrumentEventStore = (store: EventStore, metrics: AppendMetrics): EventStore => new InstrumentedEventStore(store, metrics);
