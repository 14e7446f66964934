import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent, OutcomeRecord } from '../../src/application/ports/event-store.js';
import { WrongExpectedVersion, streamRevision } from '../../src/application/ports/event-store.js';
import { formatPosition } from '../../src/application/ports/position.js';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { eventStoreMigrations } from '../../src/infrastructure/postgres/event-store/schema.js';
import { PostgresIdempotencyStore } from '../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
import { idempotencyMigrations } from '../../src/infrastructure/postgres/idempotency/schema.js';
import { migrate } from '../../src/infrastructure/postgres/migrator.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';

/*
 * A keyed command's answer written by the append's own statement (EventStore
 * `recordOutcome`): both commit together, only when the append wrote, only under a lease
 * that still holds.
 */

let db: TestDatabase;
let events: PostgresEventStore;
let keys: PostgresIdempotencyStore;
beforeAll(async () => {
  db = await createTestDatabase('http_idem_outcome');
  await migrate(db.pool, [...eventStoreMigrations, ...idempotencyMigrations]);
  events = new PostgresEventStore(db.pool);
  keys = new PostgresIdempotencyStore(db.pool, { leaseMs: 100 });
});
afterAll(async () => {
  await events?.close();
  await db?.drop();
});

const event = (id = randomUUID()): NewEvent => ({
  id,
  type: 'Thing',
  data: { n: 1 },
  metadata: { correlationId: 'c', causationId: null, actor: 'a', occurredAt: new Date().toISOString(), schemaVersion: 1 },
});

const body = Buffer.from('{"id":"x"}');

async function started(key: string): Promise<{ scope: { actor: string; key: string }; record: OutcomeRecord }> {
  const scope = { actor: 'key:ak_1', key };
  const begun = await keys.begin(scope, 'hash');
  if (begun.kind !== 'started') throw new Error(`expected started, got ${begun.kind}`);
  return {
    scope,
    record: { scope, lease: begun.lease, response: { status: 201, headers: { etag: '"0"', 'content-type': 'application/json' }, body }, positionHeader: 'ledger-position' },
  };
}

describe('an append that records its command outcome', () => {
  it('commits the events and the answer together; a retry replays the answer with the append position', async () => {
    const { scope, record } = await started('k-ok');
    const appended = await events.append(`thing-${randomUUID()}`, [event()], 'no_stream', { recordOutcome: record });
    expect(appended.outcomeRecorded).toBe(true);
    const replay = await keys.begin(scope, 'hash');
    if (replay.kind !== 'replay') throw new Error(`expected replay, got ${replay.kind}`);
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers).toEqual({ etag: '"0"', 'content-type': 'application/json', 'ledger-position': formatPosition(appended.position) });
    expect(Buffer.from(replay.response.body)).toEqual(body);
  });

  it('a wrong expected revision writes neither: the key stays in flight for its holder', async () => {
    const stream = `thing-${randomUUID()}`;
    await events.append(stream, [event()], 'no_stream');
    const { scope, record } = await started('k-conflict');
    await expect(events.append(stream, [event()], 'no_stream', { recordOutcome: record })).rejects.toBeInstanceOf(WrongExpectedVersion);
    expect(await keys.begin(scope, 'hash')).toMatchObject({ kind: 'in_flight' });
    expect((await events.readStream(stream)).revision).toBe(streamRevision(0));
  });

  it('a replayed append (the same event ids) records nothing: the answer is the first write, not this one', async () => {
    const stream = `thing-${randomUUID()}`;
    const same = event();
    await events.append(stream, [same], 'no_stream');
    const { scope, record } = await started('k-replayed');
    const again = await events.append(stream, [same], 'no_stream', { recordOutcome: record });
    expect(again.replayed).toBe(true);
    expect(again.outcomeRecorded).toBeUndefined();
    expect(await keys.begin(scope, 'hash')).toMatchObject({ kind: 'in_flight' });
  });

  it('a lease lost to a retry: the events are written, the answer is not (the retry will record its own)', async () => {
    const { scope, record } = await started('k-lost');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const takeover = await keys.begin(scope, 'hash');
    expect(takeover.kind).toBe('started');
    const stream = `thing-${randomUUID()}`;
    const appended = await events.append(stream, [event()], 'no_stream', { recordOutcome: record });
    expect(appended.outcomeRecorded).toBeUndefined();
    expect((await events.readStream(stream)).revision).toBe(streamRevision(0));
    expect(await keys.begin(scope, 'hash')).toMatchObject({ kind: 'in_flight' });
  });
});
