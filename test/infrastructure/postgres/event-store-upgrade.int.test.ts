import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyViolation, WrongExpectedVersion, streamRevision, type NewEvent } from '../../../src/application/ports/event-store.js';
import { PostgresEventStore } from '../../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../../src/infrastructure/postgres/event-store/schema.js';
import { migrate } from '../../../src/infrastructure/postgres/migrator.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg.js';
import { expectStrictlyIncreasing, newEvent, newStreamId, readAllOf } from '../../event-store/contract.js';

/** An append through migration 002's ledger_append, as the adapter before 003 made it. */
async function appendBefore003(pool: pg.Pool, stream: string, events: readonly NewEvent[]): Promise<void> {
  await pool.query('SELECT * FROM ledger_append($1, $2, NULL, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], false)', [
    stream,
    'any',
    events.map((e) => e.id),
    events.map((e) => e.type),
    events.map((e) => JSON.stringify(e.data)),
    events.map((e) => JSON.stringify(e.metadata)),
  ]);
}

const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);

describe('event store migration 003 (the revision key is the lock) on a database with events', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const streams = [newStreamId('old-a'), newStreamId('old-b')];
  const written: NewEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('es_upgrade');
    const before = eventStoreMigrations.filter((m) => m.id !== 'event-store/003-revision-key-is-the-lock');
    expect(before).toHaveLength(eventStoreMigrations.length - 1);
    await migrate(db.pool, before);
    for (const [stream, count] of [[streams[0]!, 3], [streams[1]!, 1], [streams[0]!, 2], [streams[1]!, 120]] as const) {
      const events = Array.from({ length: count }, (_, i) => newEvent('Old', { i }));
      await appendBefore003(db.pool, stream, events);
      written.push(...events);
    }
    expect(await migrate(db.pool, eventStoreMigrations)).toEqual(['event-store/003-revision-key-is-the-lock']);
    store = new PostgresEventStore(db.pool, { pollIntervalMs: 25 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('keeps every event, its revision and the log order', async () => {
    const log = await readAllOf(store, undefined, new Set(streams), written.length, { pageSize: 50 });
    expect(ids(log)).toEqual(ids(written));
    expectStrictlyIncreasing(log);
    const a = await store.readStream(streams[0]!);
    expect(a.revision).toBe(streamRevision(4));
    expect(a.events.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4].map((n) => streamRevision(n)));
    expect((await store.readStream(streams[1]!)).revision).toBe(streamRevision(120));
  });

  it('goes on from the streams written before, at their revisions', async () => {
    await expect(store.append(streams[0]!, [newEvent()], streamRevision(3))).rejects.toBeInstanceOf(WrongExpectedVersion);
    await expect(store.append(streams[0]!, [newEvent()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedVersion);
    expect((await store.append(streams[0]!, [newEvent()], streamRevision(4))).nextExpectedRevision).toBe(streamRevision(5));
    expect((await store.append(streams[1]!, [newEvent(), newEvent()], 'any')).nextExpectedRevision).toBe(streamRevision(122));
  });

  it('recognises a re-append of events written before as the same write, and refuses them elsewhere', async () => {
    const old = written.slice(4, 6); // the second write to stream a
    const replay = await store.append(streams[0]!, old, streamRevision(2));
    expect(replay.replayed).toBe(true);
    expect(replay.nextExpectedRevision).toBe(streamRevision(4));
    await expect(store.append(newStreamId('elsewhere'), [written[0]!], 'no_stream')).rejects.toBeInstanceOf(IdempotencyViolation);
  });

  it('leaves no streams table and no function of the old signature', async () => {
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_proc WHERE proname = 'ledger_append'`,
    );
    expect(rows[0]?.n).toBe('1');
    expect((await db.pool.query(`SELECT to_regclass('streams') AS t`)).rows[0]).toEqual({ t: null });
  });
});
