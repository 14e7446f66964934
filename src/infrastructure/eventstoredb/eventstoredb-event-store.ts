import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
} from '@eventstore/db-client';
import type {
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AppendResult as EsdbAppendResult,
  Direction,
  ReadPosition,
  ReadRevision,
} from '@eventstore/db-client';
import { IdempotencyViolation, WrongExpectedVersion, streamRevision } from '../../application/ports/event-store.js';
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
} from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import {
  expectedLastRevision,
  fromEsdbCurrentRevision,
  isPartialReappend,
  isStrictlyAfter,
  isUserEvent,
  toEsdbExpectedRevision,
  toJsonData,
  toPortPosition,
  toReadPosition,
  toRecordedEvent,
  usableWritePosition,
} from './mapping.js';
import type { EsdbRecordedEvent } from './mapping.js';

/** Largest page one $all read asks for; readAll loops, so this only bounds memory per round trip. */
const MAX_PAGE = 4096;
/** Page size when scanning $all backwards for the newest non-system event. */
const HEAD_PAGE = 256;

const toEventData = (event: NewEvent) =>
  jsonEvent({ id: event.id, type: event.type, data: toJsonData(event.data), metadata: event.metadata });

function assertCount(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** The port's error for an append EventStoreDB refused with "wrong expected version". */
function refusal(
  streamId: string,
  expected: ExpectedRevision,
  actual: StreamRevision | undefined,
  cause: unknown,
): WrongExpectedVersion | IdempotencyViolation {
  if (isPartialReappend(expected, actual)) {
    return new IdempotencyViolation(
      `append to ${streamId}: some of these event ids are already in the stream, but not all (expected ${String(expected)})`,
      { cause },
    );
  }
  return new WrongExpectedVersion(streamId, expected, actual);
}

/**
 * The EventStore port over EventStoreDB (gRPC client v6).
 *
 * Positions are EventStoreDB's own $all (commit, prepare) pairs, kept whole: events written
 * in one legacy transaction share a commit position, so neither half alone orders them.
 * EventStoreDB's "from position" is inclusive for reads (and not documented either way for
 * subscriptions), so every "after" here drops events at or before the given position itself.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  /** Aborted by close(): running subscriptions end cleanly instead of failing on a disposed client. */
  private readonly closing = new AbortController();

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const last = events.at(-1);
    if (last === undefined) {
      // An empty write has no "last event written" to report a revision or position for.
      throw new RangeError(`append to ${streamId}: no events`);
    }
    let result: EsdbAppendResult;
    try {
      result = await this.client.appendToStream(streamId, events.map(toEventData), {
        expectedRevision: toEsdbExpectedRevision(expected),
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw refusal(streamId, expected, fromEsdbCurrentRevision(error.actualVersion), error);
      }
      throw error;
    }
    if (!result.success) {
      // Only reachable when the connection string sets throwOnAppendFailure=false. The
      // revision the client reports then is unreliable (-1, or garbage on the batch path),
      // so ask the stream.
      throw refusal(streamId, expected, await this.currentRevision(streamId), undefined);
    }

    // On success the server reports the revision of the last event of *this* batch, also when
    // it recognised the ids as already written (an idempotent re-append), not the stream's
    // current revision. Where the expectation pins the answer we hold it to that.
    const pinned = expectedLastRevision(expected, events.length);
    const revision = pinned ?? result.nextExpectedRevision;
    let position = usableWritePosition(result.position);
    if (position === undefined || revision !== result.nextExpectedRevision) {
      // Idempotent re-appends come back without a position on older servers (or one we
      // cannot trust if the revision disagreed): read the event back.
      position = await this.positionOfWrittenEvent(streamId, revision, last.id);
    }
    // The server does not tell a recognised re-append from a write: replayed stays false.
    return { nextExpectedRevision: streamRevision(revision), position, replayed: false };
  }

  async readStream(
    streamId: string,
    options: { fromRevision?: StreamRevision; maxCount?: number } = {},
  ): Promise<ReadStreamResult> {
    const { fromRevision, maxCount } = options;
    if (maxCount !== undefined) assertCount(maxCount, 'maxCount', 0);
    let events: RecordedEvent[] = [];
    if (maxCount !== 0) {
      const raw = await this.readRawStream(streamId, fromRevision ?? 0n, FORWARDS, maxCount);
      if (raw === undefined) return { revision: undefined, events: [] };
      events = raw.map((e) => toRecordedEvent(e));
    }
    const lastRead = events.at(-1);
    const readToEnd = maxCount === undefined || events.length < maxCount;
    // The stream's revision is the last event read only when the read reached the end;
    // when maxCount cut it short, or fromRevision lies past the end, ask for the newest event.
    const revision = lastRead !== undefined && readToEnd ? lastRead.revision : await this.currentRevision(streamId);
    return { revision, events };
  }

  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    const { after, maxCount } = options;
    assertCount(maxCount, 'maxCount', 0);
    const out: RecordedEvent[] = [];
    if (maxCount === 0) return out;
    // One more than needed: the first event of a page may be the (inclusive) start itself.
    const pageSize = Math.min(maxCount, MAX_PAGE) + 1;
    // The newest $all position examined so far, user event or not.
    let cursor: Position | undefined = after;
    // Pages through the log until maxCount user events are found or the log ends; every
    // page either moves the cursor forward or ends the loop, so it cannot spin in place.
    let endOfLog = false;
    while (!endOfLog) {
      const page = await this.readAllPage(toReadPosition(cursor), pageSize, FORWARDS);
      let advanced = false;
      for (const raw of page) {
        if (!isStrictlyAfter(raw.position, cursor)) continue;
        advanced = true;
        cursor = toPortPosition(raw.position);
        // The client's $all read has no server-side filter in v6, so system events are
        // dropped here; we keep paging so that they do not eat into maxCount.
        if (!isUserEvent(raw.streamId, raw.type)) continue;
        out.push(toRecordedEvent(raw));
        if (out.length === maxCount) return out;
      }
      endOfLog = page.length < pageSize || !advanced;
    }
    return out;
  }

  async *subscribeToAll(options: SubscribeOptions): AsyncGenerator<readonly RecordedEvent[]> {
    const { after, batchSize, signal } = options;
    assertCount(batchSize, 'batchSize', 1);
    if (signal.aborted || this.closing.signal.aborted) return;

    const subscription = this.client.subscribeToAll({
      fromPosition: toReadPosition(after),
      resolveLinkTos: false,
      // Server-side: drops "$…" event types, which is nearly all system traffic. The
      // isUserEvent check below also drops events in "$…" streams.
      filter: excludeSystemEvents(),
    });

    const buffer: RecordedEvent[] = [];
    // Stop pulling from the server when the consumer falls this far behind (backpressure
    // through the client's stream into gRPC flow control); resume once it catches up.
    const highWater = batchSize * 2;
    let failure: Error | undefined;
    let ended = false;
    let stopped = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };

    const onData = (resolved: AllStreamResolvedEvent): void => {
      const event = resolved.event;
      if (failure !== undefined || event === undefined) return;
      if (!isUserEvent(event.streamId, event.type) || !isStrictlyAfter(event.position, after)) return;
      try {
        buffer.push(toRecordedEvent(event));
      } catch (error) {
        // An event we cannot map stops the subscription at that event, visibly; the events
        // before it are still delivered.
        failure = error instanceof Error ? error : new Error(String(error));
      }
      if (buffer.length >= highWater) subscription.pause();
      notify();
    };
    const onError = (error: Error): void => {
      failure ??= error;
      notify();
    };
    const onEnd = (): void => {
      ended = true;
      notify();
    };
    const onStop = (): void => {
      stopped = true;
      notify();
    };

    subscription.on('data', onData);
    subscription.on('error', onError);
    subscription.on('end', onEnd);
    subscription.on('close', onEnd);
    signal.addEventListener('abort', onStop, { once: true });
    this.closing.signal.addEventListener('abort', onStop, { once: true });

    try {
      // Live until stopped: each pass yields what arrived, or waits for the next signal.
      while (!stopped) {
        if (buffer.length > 0) {
          // Whatever has arrived, up to batchSize: no waiting to fill a batch.
          const batch = buffer.splice(0, batchSize);
          if (subscription.isPaused() && buffer.length < batchSize) subscription.resume();
          yield batch;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) {
          // A live subscription only ends when we end it; anything else is a lost connection
          // the consumer must see (and restart from its checkpoint), not a clean finish.
          throw new Error('EventStoreDB subscription to $all ended unexpectedly');
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onStop);
      this.closing.signal.removeEventListener('abort', onStop);
      subscription.off('data', onData);
      subscription.off('end', onEnd);
      subscription.off('close', onEnd);
      subscription.off('error', onError);
      // Cancelling may still surface an error on the stream; with no listener that would
      // crash the process.
      subscription.on('error', () => undefined);
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    }
  }

  async headPosition(): Promise<Position | undefined> {
    let from: ReadPosition = END;
    // Pages backwards until a user event or the start of the log: every full page moves
    // `from` further back, so the loop ends at the oldest event at the latest.
    let startOfLog = false;
    while (!startOfLog) {
      const page = await this.readAllPage(from, HEAD_PAGE, BACKWARDS);
      for (const raw of page) {
        if (isUserEvent(raw.streamId, raw.type)) return toPortPosition(raw.position);
      }
      const oldest = page.at(-1);
      startOfLog = oldest === undefined || page.length < HEAD_PAGE;
      // Only system events so far: keep going back. A backwards read excludes the event at
      // its start position; were it included, the page would still make progress.
      if (oldest !== undefined) from = oldest.position;
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.client.dispose();
  }

  /** Raw events of a stream, or undefined when the stream does not exist. */
  private async readRawStream(
    streamId: string,
    fromRevision: ReadRevision,
    direction: Direction,
    maxCount: number | undefined,
  ): Promise<EsdbRecordedEvent[] | undefined> {
    const read = this.client.readStream(streamId, {
      fromRevision,
      direction,
      resolveLinkTos: false,
      ...(maxCount === undefined ? {} : { maxCount }),
    });
    const out: EsdbRecordedEvent[] = [];
    try {
      for await (const resolved of read) {
        // Without link resolution every entry carries its event; the guard is for the type.
        if (resolved.event !== undefined) out.push(resolved.event);
      }
    } catch (error) {
      // The client reports a missing (or soft-deleted) stream as an error during iteration.
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    return out;
  }

  private async readAllPage(from: ReadPosition, maxCount: number, direction: Direction): Promise<AllStreamRecordedEvent[]> {
    const read = this.client.readAll({ fromPosition: from, maxCount, direction, resolveLinkTos: false });
    const out: AllStreamRecordedEvent[] = [];
    for await (const resolved of read) {
      if (resolved.event !== undefined) out.push(resolved.event);
    }
    return out;
  }

  /** Revision of the newest event in the stream, or undefined when it does not exist. */
  private async currentRevision(streamId: string): Promise<StreamRevision | undefined> {
    const newest = await this.readRawStream(streamId, END, BACKWARDS, 1);
    const event = newest?.[0];
    return event === undefined ? undefined : streamRevision(event.revision);
  }

  /** The $all position of the event an append just reported at `revision`. */
  private async positionOfWrittenEvent(streamId: string, revision: bigint, eventId: string): Promise<Position> {
    const found = (await this.readRawStream(streamId, revision, FORWARDS, 1))?.[0];
    if (found === undefined || found.revision !== revision || found.id !== eventId) {
      throw new Error(
        `append to ${streamId} succeeded at revision ${revision}, but event ${eventId} is not there ` +
          `(found ${found === undefined ? 'nothing' : `${found.id}@${found.revision}`})`,
      );
    }
    if (found.position !== undefined) return toPortPosition(found.position);
    // Stream reads carry positions only from EventStoreDB 22.6 on. The head is at or after
    // our event, so a reader that waits for it has seen our event too.
    const head = await this.headPosition();
    if (head === undefined) throw new Error(`append to ${streamId}: $all is empty after a successful append`);
    return head;
  }
}
