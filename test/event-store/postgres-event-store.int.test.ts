import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { streamRevision, type ExpectedRevision, type NewEvent } from '../../src/application/ports/event-store.js';
import { START, comparePositions, position } from '../../src/application/ports/position.js';
import { appendParams, requiredHead, type AppendRequest } from '../../src/infrastructure/postgres/event-store/append-request.js';
import { fastAppendQuery, lockedAppendQuery } from '../../src/infrastructure/postgres/event-store/append-statements.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import { createPool } from '../../src/infrastructure/postgres/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { consume, eventStoreContract, expectStrictlyIncreasing, expectWrongExpectedVersion, newEvent, newStreamId, readAllOf } from './contract.js';

eventStoreContract('PostgresEventStore', { validatesEvents: true, detectsReusedEventIds: true, reportsReplays: true }, async () => {
  const db = await createTestDatabase('es_contract');
  await migrate(db.pool, eventStoreMigrations);
  const store = new PostgresEventStore(db.pool);
  const instances: { store: PostgresEventStore; pool: pg.Pool }[] = [];
  return {
    store,
    // Its own pool, so its own LISTEN connection: woken by NOTIFY, as another service
    // instance is; a 10 s poll would fail the live-delivery case.
    openInstance: () => {
      const pool = createPool({ connectionString: db.url, max: 4, applicationName: 'es-contract-instance' });
      const instance = { store: new PostgresEventStore(pool, { pollIntervalMs: 10_000 }), pool };
      instances.push(instance);
      return instance.store;
    },
    teardown: async () => {
      for (const instance of instances) {
        await instance.store.close();
        await instance.pool.end();
      }
      await store.close();
      await db.drop();
    },
  };
});

/**
 * An append as the adapter sends it (the lock-free fast path for an exact revision or
 * no_stream, ledger_append under the stream's lock for 'any'), on a client whose transaction
 * the test controls.
 */
async function appendOn(client: pg.ClientBase, stream: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<void> {
  const request = appendParams(stream, events, expected);
  const head = requiredHead(request);
  const { rows } = await client.query(head === undefined ? lockedAppendQuery(request, false) : fastAppendQuery(request, head));
  expect(rows).toHaveLength(1);
}

async function inTransaction(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<'commit' | 'rollback'>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const outcome = await body(client);
    await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);

describe('PostgresEventStore on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('es_postgres');
    await migrate(db.pool, eventStoreMigrations);
    // A short poll: the appends these tests make on raw clients announce nothing.
    store = new PostgresEventStore(db.pool, { pollIntervalMs: 25 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  // First in this file's fresh database, so that sequence numbers cross 9 -> 10 and 99 -> 100
  // inside the write: int8 and xid8 travel as text and must still be ordered as numbers.
  it('orders positions and revisions as numbers', async () => {
    const stream = newStreamId('numeric');
    const events = Array.from({ length: 120 }, (_, i) => newEvent('Numbered', { i }));
    const result = await store.append(stream, events, 'no_stream');
    expect(result.position.prepare).toBeGreaterThanOrEqual(120n);
    const log = await readAllOf(store, undefined, new Set([stream]), events.length, { pageSize: 7 });
    expect(ids(log)).toEqual(ids(events));
    expectStrictlyIncreasing(log);
    expect(await store.headPosition()).toEqual(result.position);
    const read = await store.readStream(stream, { fromRevision: streamRevision(5) });
    expect(read.events.map((e) => e.revision)).toEqual(events.slice(5).map((_, i) => streamRevision(i + 5)));
    expect(await store.readStream(stream, { maxCount: 0 })).toEqual({ revision: streamRevision(119), events: [] });
  });

  describe('reading never skips an event that commits late', () => {
    it('hides events committed after an older transaction that is still open, then delivers all in order', async () => {
      const head = await store.headPosition();
      const held = newStreamId('held');
      const others = [newStreamId('other1'), newStreamId('other2')];
      const streams = new Set([held, ...others]);
      const heldEvent = newEvent('Held');
      const otherEvents = [newEvent('Other1'), newEvent('Other2')];
      const consumer = consume(store, { after: head, batchSize: 10, streams });

      const holder = await db.pool.connect();
      try {
        await holder.query('BEGIN');
        // Takes a transaction id and a sequence number before the others do.
        await appendOn(holder, held, [heldEvent]);
        await store.append(others[0]!, [otherEvents[0]!], 'no_stream');
        await store.append(others[1]!, [otherEvents[1]!], 'no_stream');

        expect((await store.readAll({ after: head, maxCount: 100 })).filter((e) => streams.has(e.streamId))).toEqual([]);
        expect(await store.headPosition()).toEqual(head);
        await sleep(200);
        expect(consumer.received).toEqual([]);

        await holder.query('COMMIT');
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
      try {
        await consumer.waitFor(3);
        await sleep(100);
      } finally {
        await consumer.stop();
      }
      const log = await readAllOf(store, head, streams, 3);
      expect(ids(log)).toEqual([heldEvent.id, ...ids(otherEvents)]);
      expect(ids(consumer.received)).toEqual(ids(log));
      expect(await store.headPosition()).toEqual(log.at(-1)!.position);
    });

    it('still delivers an event with a lower sequence number after a subscriber has passed a higher one', async () => {
      const head = await store.headPosition();
      const earlyStream = newStreamId('early');
      const lateStream = newStreamId('late');
      const streams = new Set([earlyStream, lateStream]);
      const earlyEvent = newEvent('EarlyXid');
      const lateEvent = newEvent('LateXid');
      const consumer = consume(store, { after: head, batchSize: 10, streams });

      const early = await db.pool.connect();
      const late = await db.pool.connect();
      try {
        await early.query('BEGIN');
        await early.query('SELECT pg_current_xact_id()');
        await late.query('BEGIN');
        // The later transaction takes its sequence number first ...
        await appendOn(late, lateStream, [lateEvent]);
        await appendOn(early, earlyStream, [earlyEvent]);
        await early.query('COMMIT');

        // ... so a reader by global_position alone would now checkpoint past it.
        await consumer.waitFor(1);
        expect(ids(consumer.received)).toEqual([earlyEvent.id]);

        await late.query('COMMIT');
      } finally {
        for (const client of [early, late]) {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
      }
      try {
        await consumer.waitFor(2);
        await sleep(100);
      } finally {
        await consumer.stop();
      }
      const [seenFirst, seenLate] = consumer.received;
      expect(ids(consumer.received)).toEqual([earlyEvent.id, lateEvent.id]);
      expect(seenLate!.position.prepare).toBeLessThan(seenFirst!.position.prepare);
      expect(ids(await readAllOf(store, head, streams, 2))).toEqual(ids(consumer.received));
    });

    it('gives a subscriber exactly the final log under writers with delayed commits and rollbacks', async () => {
      const step = fc.record({
        events: fc.integer({ min: 1, max: 3 }),
        delayMs: fc.integer({ min: 0, max: 30 }),
        // direct: the adapter's one-statement append; hold: sleep between append and commit;
        // xid-first: take the transaction id, sleep, then append (sequence number out of xid order).
        pattern: fc.constantFrom('direct', 'hold', 'xid-first'),
        rollback: fc.boolean().map((b) => b && Math.random() < 0.3),
        // exact: the lock-free fast path (no_stream, then the revision); any: ledger_append under the lock.
        expectation: fc.constantFrom('any', 'exact'),
      });
      const plan = fc.record({
        writers: fc.array(fc.array(step, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 6 }),
        batchSize: fc.integer({ min: 1, max: 8 }),
      });

      await fc.assert(
        fc.asyncProperty(plan, async ({ writers, batchSize }) => {
          const head = await store.headPosition();
          const streamIds = writers.map((_, w) => newStreamId(`random${w}`));
          const streams = new Set(streamIds);
          const committed = new Set<string>();
          const consumer = consume(store, { after: head, batchSize, streams });
          try {
            await Promise.all(
              writers.map(async (steps, w) => {
                const stream = streamIds[w]!;
                let head: bigint | undefined;
                for (const s of steps) {
                  const events = Array.from({ length: s.events }, () => newEvent(`Random${s.pattern}`));
                  const expected: ExpectedRevision = s.expectation === 'any' ? 'any' : head === undefined ? 'no_stream' : streamRevision(head);
                  if (s.pattern === 'direct') {
                    await store.append(stream, events, expected);
                  } else {
                    await inTransaction(db.pool, async (client) => {
                      if (s.pattern === 'xid-first') {
                        await client.query('SELECT pg_current_xact_id()');
                        await client.query('SELECT pg_sleep($1)', [s.delayMs / 1000]);
                        await appendOn(client, stream, events, expected);
                      } else {
                        await appendOn(client, stream, events, expected);
                        await client.query('SELECT pg_sleep($1)', [s.delayMs / 1000]);
                      }
                      return s.rollback ? 'rollback' : 'commit';
                    });
                    if (s.rollback) continue;
                  }
                  head = (head ?? -1n) + BigInt(events.length);
                  for (const e of events) committed.add(e.id);
                }
              }),
            );
            await consumer.waitFor(committed.size);
            await sleep(60);
          } finally {
            await consumer.stop();
          }
          const log = await readAllOf(store, head, streams, committed.size, { pageSize: 7 });
          expect(new Set(ids(log))).toEqual(committed);
          expect(ids(consumer.received)).toEqual(ids(log));
          expectStrictlyIncreasing(consumer.received);
          for (const stream of streamIds) {
            const revisions = log.filter((e) => e.streamId === stream).map((e) => e.revision);
            expect(revisions).toEqual(revisions.map((_, i) => streamRevision(i)));
          }
        }),
        { numRuns: 10, endOnFailure: true },
      );
    });
  });

  describe('reading ahead', () => {
    it('answers readAll with what committed before the call, never with a short page read ahead earlier', async () => {
      const head = await store.headPosition();
      const stream = newStreamId('ahead');
      const events = Array.from({ length: 13 }, (_, i) => newEvent('Ahead', { i }));
      // Any open transaction on the server hides later commits for a moment: wait until
      // the write is visible (headPosition reads nothing ahead), so that what readAll
      // answers next depends only on the read-ahead.
      const appendVisible = async (slice: NewEvent[], expected: ExpectedRevision): Promise<void> => {
        const written = await store.append(stream, slice, expected);
        await vi.waitFor(async () => expect(comparePositions((await store.headPosition()) ?? START, written.position)).toBeGreaterThanOrEqual(0), {
          timeout: 10_000,
          interval: 10,
        });
      };
      await appendVisible(events.slice(0, 5), 'no_stream');
      // A full page: the page after it (empty by now) is read ahead.
      const first = await store.readAll({ after: head, maxCount: 5 });
      expect(ids(first)).toEqual(ids(events.slice(0, 5)));
      await appendVisible(events.slice(5, 10), streamRevision(4));
      const second = await store.readAll({ after: first.at(-1)!.position, maxCount: 5 });
      expect(ids(second)).toEqual(ids(events.slice(5, 10)));
      // The second page was full too: the page after it, read ahead before events 10-12 existed, is short and dropped.
      await appendVisible(events.slice(10), streamRevision(9));
      const third = await store.readAll({ after: second.at(-1)!.position, maxCount: 5 });
      expect(ids(third)).toEqual(ids(events.slice(10)));
      expect(ids(await readAllOf(store, head, new Set([stream]), 13, { pageSize: 2 }))).toEqual(ids(events));
    });
  });

  describe('validation and idempotency', () => {
    it('accepts any position it could have issued', async () => {
      // Not a contract case: what EventStoreDB answers for a position past its end is up to its server.
      const max = (1n << 64n) - 1n;
      expect(await store.readAll({ after: position(max, max), maxCount: 50_000 })).toEqual([]);
    });

    it('refuses in SQL too what the adapter refuses before the round trip: empty stream id or type, metadata not an object', async () => {
      // Requests the adapter would never send, straight to both write paths.
      const valid = appendParams(newStreamId('sqlcheck'), [newEvent(), newEvent()], 'no_stream');
      const broken: AppendRequest[] = [
        { ...valid, streamId: '' },
        { ...valid, types: ['T', ''] },
        { ...valid, metadata: [valid.metadata[0]!, '[1]'] },
      ];
      for (const request of broken) {
        for (const one of [request, { ...request, ids: request.ids.slice(1), types: request.types.slice(1), data: request.data.slice(1), metadata: request.metadata.slice(1) }]) {
          await expect(db.pool.query(fastAppendQuery(one, '-1'))).rejects.toMatchObject({ code: '23502' });
          await expect(db.pool.query(lockedAppendQuery({ ...one, kind: 'any' }, false))).rejects.toMatchObject({ code: '23502' });
        }
      }
      expect(await store.readStream(valid.streamId)).toEqual({ revision: undefined, events: [] });
    });

    it('refuses a stale exact revision that this instance knows exists, once another instance has moved the stream on', async () => {
      const other = new PostgresEventStore(db.pool, { pollIntervalMs: 25 });
      try {
        const stream = newStreamId('known');
        await store.append(stream, [newEvent(), newEvent(), newEvent()], 'no_stream');
        // `other` learns that revision 2 exists (and appends after it, unprobed, below).
        expect((await other.readStream(stream)).revision).toBe(streamRevision(2));
        await store.append(stream, [newEvent()], streamRevision(2));
        await expectWrongExpectedVersion(other.append(stream, [newEvent()], streamRevision(2)), 3n);
        await expectWrongExpectedVersion(other.append(stream, [newEvent(), newEvent()], streamRevision(1)), 3n);
        // Past what anyone wrote: unknown, so probed, and refused without a gap.
        await expectWrongExpectedVersion(other.append(stream, [newEvent()], streamRevision(7)), 3n);
        expect((await other.append(stream, [newEvent()], streamRevision(3))).nextExpectedRevision).toBe(streamRevision(4));
        const read = await store.readStream(stream);
        expect(read.events.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4].map((n) => streamRevision(n)));
      } finally {
        await other.close();
      }
    });

    it('answers racing copies of one write with the same result', async () => {
      // 'any' meets the copy at the event-id index; the others at the stream row.
      for (const expected of ['any', 'no_stream', streamRevision(0), 'any', 'no_stream', streamRevision(0)] as const) {
        const stream = newStreamId('copies');
        const seed = typeof expected === 'bigint' ? [newEvent('Seed')] : [];
        if (seed.length > 0) await store.append(stream, seed, 'no_stream');
        const events = [newEvent(), newEvent()];
        const results = await Promise.all(Array.from({ length: 6 }, () => store.append(stream, events, expected)));
        // One copy wrote; every other one recognised it and says so.
        const written = results.filter((r) => !r.replayed);
        expect(written).toHaveLength(1);
        for (const result of results) expect(result).toEqual({ ...written[0], replayed: result.replayed });
        expect(ids((await store.readStream(stream)).events)).toEqual(ids([...seed, ...events]));
      }
    });
  });

  describe('wake-ups', () => {
    it('wakes a subscriber of another instance through NOTIFY, long before its poll', async () => {
      const otherPool = createPool({ connectionString: db.url, max: 4, applicationName: 'es-notify-listener' });
      const other = new PostgresEventStore(otherPool, { pollIntervalMs: 10_000 });
      const stream = newStreamId('notify');
      const consumer = consume(other, { after: await store.headPosition(), batchSize: 10, streams: new Set([stream]) });
      const latency = async (expected: bigint | 'no_stream', count: number): Promise<number> => {
        const started = performance.now();
        await store.append(stream, [newEvent()], expected === 'no_stream' ? expected : streamRevision(expected));
        await consumer.waitFor(count, 5_000);
        return performance.now() - started;
      };
      try {
        expect(await latency('no_stream', 1)).toBeLessThan(2_000);
        expect(await latency(0n, 2)).toBeLessThan(2_000);

        // Cut the LISTEN connection: the instance reconnects and is woken again.
        const { rows } = await db.pool.query<{ pid: number }>(
          `SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity
           WHERE application_name = 'es-notify-listener:event-notifications'`,
        );
        expect(rows).toHaveLength(1);
        await sleep(300);
        expect(await latency(1n, 3)).toBeLessThan(2_000);
        expect(await latency(2n, 4)).toBeLessThan(2_000);
      } finally {
        await consumer.stop();
        await other.close();
        await otherPool.end();
      }
      expect(consumer.received).toHaveLength(4);
    });
  });
});
