import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  IdempotencyViolation,
  WrongExpectedVersion,
  streamRevision,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
} from '../../src/application/ports/event-store.js';
import { comparePositions, formatPosition, parsePosition, type Position } from '../../src/application/ports/position.js';

export interface EventStoreUnderTest {
  readonly store: EventStore;
  /** Another instance of the adapter over the same log (a second service instance); the test closes it. */
  readonly openInstance: () => EventStore;
  readonly teardown: () => Promise<void>;
}

/**
 * What an adapter promises beyond the port's core. Each runner states every flag, so a
 * case an adapter does not run is a stated limitation, not a silent skip.
 */
export interface EventStoreCapabilities {
  /**
   * Refuses, before writing anything, what it cannot store faithfully: an event id that is
   * not a UUID or repeats within the append, data with no JSON form (TypeError). The
   * EventStoreDB adapter leaves this to its server, which answers with errors of its own.
   * The cases also check that the whole log's head did not move, so such an adapter runs
   * the suite in a log of its own.
   */
  readonly validatesEvents: boolean;
  /**
   * Refuses ids that were written, but not as this same write (only some of them, in
   * another order or stream, with other types) with IdempotencyViolation. EventStoreDB's
   * idempotency is positional: it recognises the same write at the same expected revision,
   * and refuses only some of the other cases.
   */
  readonly detectsReusedEventIds: boolean;
  /**
   * Says which appends only recognised an earlier copy (`AppendResult.replayed`). The
   * EventStoreDB client does not tell, so its adapter answers false for both.
   */
  readonly reportsReplays: boolean;
}

/*
 * Every test writes to streams of its own (random names) and looks only at its own events
 * in the global log, so the suite also runs against a shared store that already holds
 * other events, and other writers may be busy at the same time.
 */

export const newStreamId = (label: string): string => `contract_${label}-${randomUUID().replaceAll('-', '')}`;

export function newEvent(type = 'ThingHappened', data: unknown = { n: 1 }): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: randomUUID(), causationId: null, actor: 'contract-test', occurredAt: new Date().toISOString(), schemaVersion: 1 },
  };
}

export async function expectWrongExpectedVersion(attempt: Promise<unknown>, actual: bigint | undefined): Promise<WrongExpectedVersion> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersion);
  const wrong = error as WrongExpectedVersion;
  expect(wrong.actual).toBe(actual === undefined ? undefined : streamRevision(actual));
  return wrong;
}

/**
 * The events of `streams` after `after`, paging through the log as a subscriber would
 * until `count` of them have appeared (or `timeoutMs` passed: the caller's assertion then
 * shows what is missing). A committed event may stay invisible for a moment: the
 * PostgreSQL adapter shows nothing past a transaction that is still open, in any database
 * of the server.
 */
export async function readAllOf(
  store: EventStore,
  after: Position | undefined,
  streams: ReadonlySet<string>,
  count: number,
  options: { pageSize?: number; timeoutMs?: number } = {},
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const found: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await store.readAll({ after: cursor, maxCount: options.pageSize ?? 100 });
    const last = page.at(-1);
    if (last === undefined) {
      if (found.length >= count || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    for (const event of page) if (streams.has(event.streamId)) found.push(event);
    cursor = last.position;
  }
}

export function expectStrictlyIncreasing(events: readonly RecordedEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(comparePositions(events[i - 1]!.position, events[i]!.position), `position ${i} follows position ${i - 1}`).toBe(-1);
  }
}

export interface Consumer {
  /** The consumer's events of the streams it was told about, in the order received. */
  readonly received: RecordedEvent[];
  readonly batchSizes: number[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Aborts the subscription and waits for the iteration to end. */
  stop(): Promise<void>;
  /** Settles when the iteration ends by itself. */
  readonly done: Promise<void>;
}

export function consume(store: EventStore, options: { after: Position | undefined; batchSize: number; streams: ReadonlySet<string> }): Consumer {
  const controller = new AbortController();
  const received: RecordedEvent[] = [];
  const batchSizes: number[] = [];
  const done = (async () => {
    for await (const batch of store.subscribeToAll({ after: options.after, batchSize: options.batchSize, signal: controller.signal })) {
      batchSizes.push(batch.length);
      for (const event of batch) if (options.streams.has(event.streamId)) received.push(event);
    }
  })();
  // Observed through stop() or done; never an unhandled rejection in between.
  done.catch(() => undefined);
  return {
    received,
    batchSizes,
    done,
    async waitFor(count, timeoutMs = 10_000) {
      await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(count), { timeout: timeoutMs, interval: 5 });
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);

export function eventStoreContract(name: string, capabilities: EventStoreCapabilities, setup: () => Promise<EventStoreUnderTest>): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: EventStoreUnderTest | undefined;
    const under = (): EventStoreUnderTest => {
      if (subject === undefined) throw new Error('setup did not run');
      return subject;
    };
    const store = (): EventStore => under().store;
    /** What a re-append of `written` answers: the same write, flagged as a replay where the adapter can tell. */
    const asReplay = (written: AppendResult): AppendResult => {
      expect(written.replayed).toBe(false);
      return { ...written, replayed: capabilities.reportsReplays };
    };

    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.teardown();
    });

    describe('append', () => {
      it('creates a stream with no_stream and returns the revision of the last event', async () => {
        const stream = newStreamId('create');
        const events = [newEvent('Opened', { a: 1 }), newEvent('Changed', [1, 'two', null])];
        const result = await store().append(stream, events, 'no_stream');
        expect(result.nextExpectedRevision).toBe(streamRevision(1));

        const read = await store().readStream(stream);
        expect(read.revision).toBe(streamRevision(1));
        expect(read.events.map((e) => ({ id: e.id, type: e.type, streamId: e.streamId, revision: e.revision, data: e.data, metadata: e.metadata }))).toEqual(
          events.map((e, i) => ({ id: e.id, type: e.type, streamId: stream, revision: streamRevision(i), data: e.data, metadata: e.metadata })),
        );
        expect(read.events[0]!.recordedAt).toBeInstanceOf(Date);
        expect(read.events[1]!.position).toEqual(result.position);
      });

      it('appends with any whether or not the stream exists', async () => {
        const stream = newStreamId('any');
        expect((await store().append(stream, [newEvent()], 'any')).nextExpectedRevision).toBe(streamRevision(0));
        expect((await store().append(stream, [newEvent(), newEvent()], 'any')).nextExpectedRevision).toBe(streamRevision(2));
        expect((await store().readStream(stream)).events).toHaveLength(3);
      });

      it('appends at an exact revision', async () => {
        const stream = newStreamId('exact');
        await store().append(stream, [newEvent()], 'no_stream');
        const second = await store().append(stream, [newEvent(), newEvent()], streamRevision(0));
        expect(second.nextExpectedRevision).toBe(streamRevision(2));
        const third = await store().append(stream, [newEvent()], second.nextExpectedRevision);
        expect(third.nextExpectedRevision).toBe(streamRevision(3));
        expect(comparePositions(third.position, second.position)).toBe(1);
      });

      it('appends with stream_exists only to an existing stream', async () => {
        const stream = newStreamId('exists');
        await expectWrongExpectedVersion(store().append(stream, [newEvent()], 'stream_exists'), undefined);
        expect(await store().readStream(stream)).toEqual({ revision: undefined, events: [] });
        await store().append(stream, [newEvent()], 'no_stream');
        expect((await store().append(stream, [newEvent()], 'stream_exists')).nextExpectedRevision).toBe(streamRevision(1));
      });

      it('reports the actual revision when an exact revision does not match', async () => {
        const stream = newStreamId('mismatch');
        const missing = await expectWrongExpectedVersion(store().append(stream, [newEvent()], streamRevision(0)), undefined);
        expect(missing.streamId).toBe(stream);
        expect(missing.expected).toBe(streamRevision(0));

        await store().append(stream, [newEvent(), newEvent()], 'no_stream');
        const behind = await expectWrongExpectedVersion(store().append(stream, [newEvent()], streamRevision(0)), 1n);
        expect(behind.expected).toBe(streamRevision(0));
        await expectWrongExpectedVersion(store().append(stream, [newEvent()], streamRevision(5)), 1n);
        expect((await store().readStream(stream)).events).toHaveLength(2);
      });

      it('refuses no_stream on an existing stream, with the actual revision', async () => {
        const stream = newStreamId('nostream');
        await store().append(stream, [newEvent()], 'no_stream');
        const error = await expectWrongExpectedVersion(store().append(stream, [newEvent()], 'no_stream'), 0n);
        expect(error.expected).toBe('no_stream');
      });

      it('recognises a re-append of the same event ids at the same expected revision', async () => {
        const stream = newStreamId('idem');
        const first = [newEvent('A'), newEvent('B')];
        const created = await store().append(stream, first, 'no_stream');
        expect(await store().append(stream, first, 'no_stream')).toEqual(asReplay(created));

        const next = [newEvent('C')];
        const appended = await store().append(stream, next, streamRevision(1));
        expect(await store().append(stream, next, streamRevision(1))).toEqual(asReplay(appended));

        const read = await store().readStream(stream);
        expect(read.revision).toBe(streamRevision(2));
        expect(ids(read.events)).toEqual(ids([...first, ...next]));
      });

      it('recognises a re-append of the same event ids with any', async () => {
        const stream = newStreamId('idemany');
        const events = [newEvent('A'), newEvent('B')];
        const result = await store().append(stream, events, 'any');
        expect(await store().append(stream, events, 'any')).toEqual(asReplay(result));
        const read = await store().readStream(stream);
        expect(read.revision).toBe(streamRevision(1));
        expect(ids(read.events)).toEqual(ids(events));
      });

      it('refuses an append of no events, writing nothing', async () => {
        const stream = newStreamId('empty');
        await expect(store().append(stream, [], 'any')).rejects.toBeInstanceOf(RangeError);
        expect(await store().readStream(stream)).toEqual({ revision: undefined, events: [] });
      });
    });

    describe.runIf(capabilities.validatesEvents)('append validation (capability validatesEvents)', () => {
      it('rejects an event id that is not a UUID, a repeated id or data with no JSON form before writing anything', async () => {
        const stream = newStreamId('baduuid');
        const head = await store().headPosition();
        await expect(store().append(stream, [{ ...newEvent(), id: 'not-a-uuid' }], 'no_stream')).rejects.toBeInstanceOf(TypeError);
        await expect(store().append(stream, [newEvent(), { ...newEvent(), id: '1234' }], 'any')).rejects.toBeInstanceOf(TypeError);
        const duplicate = newEvent();
        await expect(store().append(stream, [duplicate, duplicate], 'any')).rejects.toBeInstanceOf(TypeError);
        await expect(store().append(stream, [newEvent('T', { big: 1n })], 'any')).rejects.toBeInstanceOf(TypeError);
        await expect(store().append(stream, [], 'any')).rejects.toBeInstanceOf(RangeError);
        expect(await store().readStream(stream)).toEqual({ revision: undefined, events: [] });
        expect(await store().headPosition()).toEqual(head);
      });
    });

    describe.runIf(capabilities.detectsReusedEventIds)('reused event ids (capability detectsReusedEventIds)', () => {
      it('refuses ids that were written, but not as this same write', async () => {
        const stream = newStreamId('violation');
        const [a, b] = [newEvent('A'), newEvent('B')];
        await store().append(stream, [a, b], 'no_stream');

        await expect(store().append(stream, [a, newEvent('C')], 'any')).rejects.toBeInstanceOf(IdempotencyViolation);
        await expect(store().append(stream, [b, a], streamRevision(1))).rejects.toBeInstanceOf(IdempotencyViolation);
        await expect(store().append(stream, [{ ...a, type: 'Other' }], 'no_stream')).rejects.toBeInstanceOf(IdempotencyViolation);
        const elsewhere = newStreamId('elsewhere');
        await expect(store().append(elsewhere, [a], 'no_stream')).rejects.toBeInstanceOf(IdempotencyViolation);

        expect(await store().readStream(elsewhere)).toEqual({ revision: undefined, events: [] });
        expect(ids((await store().readStream(stream)).events)).toEqual([a.id, b.id]);
        // A prefix of the original write is the same write.
        expect((await store().append(stream, [a], 'no_stream')).nextExpectedRevision).toBe(streamRevision(0));
      });

      it('recognises the same write at any expected revision, as a retry that re-read its stream would send it', async () => {
        const stream = newStreamId('retry');
        const events = [newEvent('A'), newEvent('B')];
        const first = await store().append(stream, events, 'no_stream');
        expect(await store().append(stream, events, streamRevision(1))).toEqual(asReplay(first));
        expect(await store().append(stream, events, 'stream_exists')).toEqual(asReplay(first));
        expect((await store().readStream(stream)).events).toHaveLength(2);
      });
    });

    describe('readStream', () => {
      it('reads in revision order, from a revision, up to a count', async () => {
        const stream = newStreamId('read');
        const events = Array.from({ length: 5 }, (_, i) => newEvent(`E${i}`, { i }));
        for (const event of events) await store().append(stream, [event], 'any');

        const all = await store().readStream(stream);
        expect(all.revision).toBe(streamRevision(4));
        expect(ids(all.events)).toEqual(ids(events));
        expect(all.events.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4].map((n) => streamRevision(n)));

        const from = await store().readStream(stream, { fromRevision: streamRevision(2) });
        expect(from.revision).toBe(streamRevision(4));
        expect(ids(from.events)).toEqual(ids(events.slice(2)));

        const some = await store().readStream(stream, { fromRevision: streamRevision(1), maxCount: 2 });
        expect(ids(some.events)).toEqual(ids(events.slice(1, 3)));

        const past = await store().readStream(stream, { fromRevision: streamRevision(9) });
        expect(past).toEqual({ revision: streamRevision(4), events: [] });
      });

      it('reads a missing stream as no revision and no events', async () => {
        expect(await store().readStream(newStreamId('missing'))).toEqual({ revision: undefined, events: [] });
      });
    });

    describe('readAll', () => {
      it('returns committed events in log order with strictly increasing positions', async () => {
        const head = await store().headPosition();
        const a = newStreamId('logA');
        const b = newStreamId('logB');
        const written: NewEvent[] = [];
        for (const [stream, count] of [[a, 1], [b, 2], [a, 1], [b, 1]] as const) {
          const events = Array.from({ length: count }, () => newEvent());
          await store().append(stream, events, 'any');
          written.push(...events);
        }
        const ours = await readAllOf(store(), head, new Set([a, b]), written.length, { pageSize: 2 });
        expect(ids(ours)).toEqual(ids(written));
        expectStrictlyIncreasing(ours);
        expect(ours.map((e) => e.streamId)).toEqual([a, b, b, a, b]);
        expect(ours.filter((e) => e.streamId === b).map((e) => e.revision)).toEqual([0, 1, 2].map((n) => streamRevision(n)));
      });

      it('treats after as exclusive and never returns more than maxCount', async () => {
        const head = await store().headPosition();
        const stream = newStreamId('after');
        await store().append(stream, [newEvent(), newEvent(), newEvent(), newEvent()], 'no_stream');
        const ours = await readAllOf(store(), head, new Set([stream]), 4);
        expect(ours).toHaveLength(4);

        const page = await store().readAll({ after: head, maxCount: 2 });
        expect(page.length).toBeGreaterThan(0);
        expect(page.length).toBeLessThanOrEqual(2);

        const afterFirst = await store().readAll({ after: ours[0]!.position, maxCount: 10 });
        expect(afterFirst.length).toBeGreaterThan(0);
        expect(ids(afterFirst)).not.toContain(ours[0]!.id);
        for (const event of afterFirst) expect(comparePositions(event.position, ours[0]!.position)).toBe(1);
        // Others may write in between on a shared store; ours continue with the second event.
        expect(afterFirst.find((e) => e.streamId === stream)?.id).toBe(ours[1]!.id);

        const afterLast = await store().readAll({ after: ours[3]!.position, maxCount: 10 });
        expect(ids(afterLast.filter((e) => e.streamId === stream))).toEqual([]);
      });

      it('issues positions that round-trip through strings and match the append result', async () => {
        const stream = newStreamId('positions');
        const head = await store().headPosition();
        if (head !== undefined) expect(parsePosition(formatPosition(head))).toEqual(head);
        const result = await store().append(stream, [newEvent(), newEvent()], 'no_stream');
        expect(parsePosition(formatPosition(result.position))).toEqual(result.position);

        const ours = await readAllOf(store(), head, new Set([stream]), 2);
        expect(ours).toHaveLength(2);
        for (const event of ours) expect(parsePosition(formatPosition(event.position))).toEqual(event.position);
        // The append answers with the position of its last event: a reader that has
        // reached it has seen the whole write.
        expect(ours[1]!.position).toEqual(result.position);

        const newHead = await store().headPosition();
        expect(newHead).toBeDefined();
        // readAllOf has seen the write, so the head has reached it too.
        expect(comparePositions(newHead!, result.position)).toBeGreaterThanOrEqual(0);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then delivers live events, in non-empty batches of at most batchSize', async () => {
        const stream = newStreamId('sub');
        const head = await store().headPosition();
        const before = [newEvent('Before1'), newEvent('Before2'), newEvent('Before3')];
        await store().append(stream, before, 'no_stream');

        const consumer = consume(store(), { after: head, batchSize: 2, streams: new Set([stream]) });
        try {
          await consumer.waitFor(3);
          const live = [newEvent('Live1')];
          await store().append(stream, live, streamRevision(2));
          await consumer.waitFor(4);
          const more = [newEvent('Live2'), newEvent('Live3')];
          await store().append(stream, more, 'any');
          await consumer.waitFor(6);
        } finally {
          await consumer.stop();
        }
        expect(ids(consumer.received)).toEqual(ids(await readAllOf(store(), head, new Set([stream]), 6)));
        expect(consumer.received).toHaveLength(6);
        expectStrictlyIncreasing(consumer.received);
        for (const size of consumer.batchSizes) {
          expect(size).toBeGreaterThan(0);
          expect(size).toBeLessThanOrEqual(2);
        }
      });

      it('starts after the given position', async () => {
        const stream = newStreamId('subafter');
        const head = await store().headPosition();
        await store().append(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');
        const ours = await readAllOf(store(), head, new Set([stream]), 3);
        const consumer = consume(store(), { after: ours[1]!.position, batchSize: 100, streams: new Set([stream]) });
        try {
          await consumer.waitFor(1);
          const live = newEvent();
          await store().append(stream, [live], streamRevision(2));
          await consumer.waitFor(2);
          expect(ids(consumer.received)).toEqual([ours[2]!.id, live.id]);
        } finally {
          await consumer.stop();
        }
      });

      it('ends the iteration when the signal aborts', async () => {
        const consumer = consume(store(), { after: await store().headPosition(), batchSize: 10, streams: new Set() });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const stopped = consumer.stop();
        await expect(withTimeout(stopped, 3_000, 'iteration to end after abort')).resolves.toBeUndefined();

        const controller = new AbortController();
        controller.abort();
        const batches: unknown[] = [];
        for await (const batch of store().subscribeToAll({ batchSize: 10, signal: controller.signal })) batches.push(batch);
        expect(batches).toEqual([]);
      });
    });

    describe('bounds', () => {
      it('refuses counts that are not whole, or below the least that makes sense', async () => {
        await expect(store().readAll({ maxCount: -1 })).rejects.toBeInstanceOf(RangeError);
        await expect(store().readAll({ maxCount: 1.5 })).rejects.toBeInstanceOf(RangeError);
        expect(await store().readAll({ maxCount: 0 })).toEqual([]);
        const subscription = store().subscribeToAll({ batchSize: 0, signal: new AbortController().signal });
        await expect(subscription[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('instances', () => {
      it("delivers another instance's appends to a live subscriber", async () => {
        const other = under().openInstance();
        const stream = newStreamId('instances');
        const consumer = consume(other, { after: await store().headPosition(), batchSize: 10, streams: new Set([stream]) });
        try {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const written = [newEvent(), newEvent()];
          await store().append(stream, written, 'no_stream');
          await consumer.waitFor(2, 5_000);
          expect(ids(consumer.received)).toEqual(ids(written));
        } finally {
          await consumer.stop();
          await other.close();
        }
      });

      it('ends live subscriptions on close, and only those of the instance closed', async () => {
        const closing = under().openInstance();
        const stream = newStreamId('close');
        const head = await store().headPosition();
        const ended = consume(closing, { after: head, batchSize: 10, streams: new Set([stream]) });
        const going = consume(store(), { after: head, batchSize: 10, streams: new Set([stream]) });
        try {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await closing.close();
          await withTimeout(ended.done, 2_000, 'subscription to end on close');
          await store().append(stream, [newEvent()], 'no_stream');
          await going.waitFor(1, 5_000);
          expect(ended.received).toEqual([]);
        } finally {
          await going.stop();
        }
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of many writers at the same expected revision win', async () => {
        const stream = newStreamId('race');
        await store().append(stream, [newEvent()], 'no_stream');
        const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => store().append(stream, [newEvent()], streamRevision(0))));
        const won = attempts.filter((a) => a.status === 'fulfilled');
        const lost = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as unknown] : []));
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(7);
        for (const reason of lost) {
          expect(reason).toBeInstanceOf(WrongExpectedVersion);
          expect((reason as WrongExpectedVersion).actual).toBe(streamRevision(1));
        }
        const read = await store().readStream(stream);
        expect(read.revision).toBe(streamRevision(1));
        expect(read.events).toHaveLength(2);
      });

      it('lets exactly one of many creators of the same stream win', async () => {
        const stream = newStreamId('create-race');
        const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => store().append(stream, [newEvent(), newEvent()], 'no_stream')));
        expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
        for (const attempt of attempts) {
          if (attempt.status === 'rejected') {
            expect(attempt.reason).toBeInstanceOf(WrongExpectedVersion);
            expect((attempt.reason as WrongExpectedVersion).actual).toBe(streamRevision(1));
          }
        }
        expect((await store().readStream(stream)).events).toHaveLength(2);
      });

      it('keeps every event of many concurrent writers exactly once in the log', async () => {
        const head = await store().headPosition();
        const writers = 16;
        const appendsPerWriter = 8;
        const streams = Array.from({ length: writers }, (_, w) => newStreamId(`writer${w}`));
        const written = new Map<string, string[]>();
        await Promise.all(
          streams.map(async (stream) => {
            const mine: string[] = [];
            let expected: ExpectedRevision = 'no_stream';
            for (let i = 0; i < appendsPerWriter; i++) {
              const events = Array.from({ length: 1 + (i % 3) }, () => newEvent());
              expected = (await store().append(stream, events, expected)).nextExpectedRevision;
              mine.push(...ids(events));
            }
            written.set(stream, mine);
          }),
        );
        const total = [...written.values()].reduce((n, list) => n + list.length, 0);
        const log = await readAllOf(store(), head, new Set(streams), total, { pageSize: 37 });
        expect(log).toHaveLength(total);
        expect(new Set(ids(log)).size).toBe(total);
        expectStrictlyIncreasing(log);
        for (const stream of streams) {
          expect(ids(log.filter((e) => e.streamId === stream))).toEqual(written.get(stream));
        }
      });
    });
  });
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
