import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Position } from '../../src/application/ports/position.js';
import { START, formatPosition, position } from '../../src/application/ports/position.js';
import type { PositionedChange, ProjectionSpec, ProjectionStore, TransactionWork } from '../../src/application/ports/projection-store.js';
import type { SqlExecutor } from '../../src/application/ports/sql.js';
import { err, ok } from '../../src/domain/result.js';
import { auditSchema, rebuildSchema } from '../../src/projections/apply-events.js';
import { projectionSchema } from '../../src/projections/projection.js';

/** A realtime row as stored: one per (change, topic). */
export interface StoredChange {
  readonly topic: string;
  readonly type: string;
  /** formatPosition of the event that made it. */
  readonly position: string;
  readonly data: unknown;
}

export interface ProjectionStoreUnderTest {
  readonly store: ProjectionStore;
  /** Another instance of the adapter over the same database (a second service instance); teardown closes it. */
  readonly openInstance: () => ProjectionStore;
  /** Ids in the `items` table of `schema`, sorted; [] when the schema or the table does not exist. */
  readonly items: (schema: string) => Promise<string[]>;
  /** The realtime rows committed for `projection`, in the order they were written. */
  readonly changes: (projection: string) => Promise<StoredChange[]>;
  /** Kills the connection of the transaction `sql` belongs to, from inside it (the fake: its commit fails as a dying connection's would). */
  readonly killConnection: (sql: SqlExecutor) => Promise<void>;
  /** As if the connection that holds this store's leases died. */
  readonly severLeases: () => Promise<void>;
  /** What the adapter's own trouble (a lost connection, a deadlock) looks like when `work` sees it. */
  readonly transientErrors: readonly unknown[];
  /** What a handler's own bug looks like, beyond plain errors. */
  readonly permanentErrors: readonly unknown[];
  readonly teardown: () => Promise<void>;
}

/*
 * Every test works on projections of its own (random names), so the suite runs against a
 * store that already holds other projections. Projections here have one table, `items`,
 * written with one statement shape, which the in-memory store records and PostgreSQL runs.
 */

const ITEMS_DDL = 'CREATE TABLE IF NOT EXISTS items (id text PRIMARY KEY)';
const INSERT_ITEM = 'INSERT INTO items (id) VALUES ($1)';

const newName = (): string => `pc_${randomBytes(5).toString('hex')}`;
const spec = (name: string, version = 1): ProjectionSpec => ({ name, version, schemaSql: ITEMS_DDL });
const at = (n: number): Position => position(BigInt(n), BigInt(n));

async function insertItems(sql: SqlExecutor, ids: readonly string[]): Promise<void> {
  for (const id of ids) await sql.query(INSERT_ITEM, [id]);
}

/** Work that writes `ids` and reports `changes`. */
const writing =
  (ids: readonly string[], changes: readonly PositionedChange[] = []): TransactionWork<readonly PositionedChange[], never> =>
  async (sql) => {
    await insertItems(sql, ids);
    return ok(changes);
  };

const neverRuns: TransactionWork<readonly PositionedChange[], never> = () => {
  throw new Error('the work must not run');
};

export function projectionStoreContract(name: string, setup: () => Promise<ProjectionStoreUnderTest>): void {
  describe(`ProjectionStore contract: ${name}`, () => {
    let subject: ProjectionStoreUnderTest | undefined;
    const under = (): ProjectionStoreUnderTest => {
      if (subject === undefined) throw new Error('setup did not run');
      return subject;
    };
    const store = (): ProjectionStore => under().store;

    /** A registered projection at checkpoint `at(n)` with live items `ids`. */
    async function projectionAt(n: number, ids: readonly string[] = [], version = 1): Promise<string> {
      const projection = newName();
      await store().register(spec(projection, version));
      if (n > 0 || ids.length > 0) {
        const outcome = await store().commitBatch({ name: projection, version, schema: projectionSchema(projection), from: START, to: at(n) }, writing(ids));
        expect(outcome).toEqual({ kind: 'committed', checkpoint: at(n) });
      }
      return projection;
    }

    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.teardown();
    });

    describe('leases', () => {
      it('grants one holder per projection and purpose, names the run leader, and frees on release', async () => {
        const projection = await projectionAt(0);
        const other = await projectionAt(0);
        const run = await store().tryAcquireLease(projection, 'run', 'instance-a');
        expect(run).toBeDefined();
        expect(run!.lost.aborted).toBe(false);
        expect(await store().tryAcquireLease(projection, 'run', 'instance-b')).toBeUndefined();
        expect(await store().tryAcquireLease(projection, 'run', 'instance-a')).toBeUndefined();
        expect((await store().read([projection]))[0]!.leader).toBe('instance-a');

        // Another purpose or another projection is another lease.
        const rebuild = await store().tryAcquireLease(projection, 'rebuild', 'instance-b');
        expect(rebuild).toBeDefined();
        const otherRun = await store().tryAcquireLease(other, 'run', 'instance-b');
        expect(otherRun).toBeDefined();
        expect((await store().read([other]))[0]!.leader).toBe('instance-b');

        await run!.release();
        expect((await store().read([projection]))[0]!.leader).toBeNull();
        const again = await store().tryAcquireLease(projection, 'run', 'instance-b');
        expect(again).toBeDefined();
        expect((await store().read([projection]))[0]!.leader).toBe('instance-b');
        for (const lease of [again, rebuild, otherRun]) await lease!.release();
        // Releasing twice is harmless.
        await again!.release();
      });

      it('excludes holders in other instances; a lost connection frees only its own instance\'s leases', async () => {
        const [projection, another] = [await projectionAt(0), await projectionAt(0)];
        const other = under().openInstance();
        const mine = await store().tryAcquireLease(projection, 'run', 'instance-a');
        expect(mine).toBeDefined();
        expect(await other.tryAcquireLease(projection, 'run', 'instance-b')).toBeUndefined();
        expect((await other.read([projection]))[0]!.leader).toBe('instance-a');
        await mine!.release();
        const theirs = await other.tryAcquireLease(projection, 'run', 'instance-b');
        expect(theirs).toBeDefined();
        expect(await store().tryAcquireLease(projection, 'run', 'instance-a')).toBeUndefined();

        const alsoMine = await store().tryAcquireLease(another, 'run', 'instance-a');
        expect(alsoMine).toBeDefined();
        await under().severLeases();
        await vi.waitFor(() => expect(alsoMine!.lost.aborted).toBe(true), { timeout: 5_000, interval: 10 });
        expect(theirs!.lost.aborted).toBe(false);
        expect((await store().read([projection]))[0]!.leader).toBe('instance-b');
        await theirs!.release();
        await alsoMine!.release();
      });

      it('aborts lost when the connection holding the lease dies, and the lease can then be taken again', async () => {
        const projection = await projectionAt(0);
        const lease = await store().tryAcquireLease(projection, 'run', 'doomed');
        expect(lease).toBeDefined();
        await under().severLeases();
        await vi.waitFor(() => expect(lease!.lost.aborted).toBe(true), { timeout: 5_000, interval: 10 });
        await vi.waitFor(async () => expect((await store().read([projection]))[0]!.leader).toBeNull(), { timeout: 5_000, interval: 20 });
        const next = await store().tryAcquireLease(projection, 'run', 'successor');
        expect(next).toBeDefined();
        expect((await store().read([projection]))[0]!.leader).toBe('successor');
        await next!.release();
        await lease!.release();
      });
    });

    describe('register, read and readCheckpoints', () => {
      it('creates the record at the start on first sight, and leaves it alone after', async () => {
        const projection = newName();
        const record = await store().register(spec(projection, 3));
        expect(record).toMatchObject({ name: projection, version: 3, checkpoint: START, failure: null, leader: null, rebuild: null });
        expect(record.updatedAt).toBeInstanceOf(Date);

        const moved = await store().commitBatch({ name: projection, version: 3, schema: projectionSchema(projection), from: START, to: at(4) }, writing(['a']));
        expect(moved.kind).toBe('committed');
        expect(await store().register(spec(projection, 3))).toMatchObject({ version: 3, checkpoint: at(4) });
        // Another version's code does not take over the stored rows: a rebuild replaces them.
        expect(await store().register(spec(projection, 4))).toMatchObject({ version: 3, checkpoint: at(4) });
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
      });

      it('refuses a name that cannot name a schema', async () => {
        for (const bad of ['Upper', 'two__underscores', '9starts_with_digit', 'x'.repeat(49), '']) {
          await expect(store().register(spec(bad)), bad).rejects.toThrow();
        }
      });

      it('reads all records or those named, in name order, and just the checkpoints', async () => {
        const [first, second] = [await projectionAt(2), await projectionAt(5)].sort();
        const both = await store().read([second!, first!, 'pc_missing']);
        expect(both.map((r) => r.name)).toEqual([first, second]);
        const all = (await store().read()).map((r) => r.name);
        expect(all).toEqual(expect.arrayContaining([first, second]));
        expect(all).toEqual([...all].sort());

        const checkpoints = await store().readCheckpoints([first!, second!, 'pc_missing']);
        expect([...checkpoints.keys()].sort()).toEqual([first, second]);
        expect(checkpoints.get(first!)).toEqual(both[0]!.checkpoint);
        expect(checkpoints.get(second!)).toEqual(both[1]!.checkpoint);
        expect(await store().readCheckpoints([])).toEqual(new Map());
      });
    });

    describe('commitBatch', () => {
      it('commits rows, checkpoint and one realtime row per topic together', async () => {
        const projection = await projectionAt(0);
        const changes: PositionedChange[] = [
          { topics: ['item:a', 'all'], type: 'item.added', data: { id: 'a', n: 1 }, position: at(2) },
          { topics: ['item:b'], type: 'item.added', data: { id: 'b', nested: [1, null] }, position: at(3) },
        ];
        const outcome = await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: START, to: at(3) }, writing(['a', 'b'], changes));
        expect(outcome).toEqual({ kind: 'committed', checkpoint: at(3) });
        expect(await under().items(projectionSchema(projection))).toEqual(['a', 'b']);
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(3));
        expect((await store().read([projection]))[0]!.checkpoint).toEqual(at(3));
        expect(await under().changes(projection)).toEqual([
          { topic: 'item:a', type: 'item.added', position: formatPosition(at(2)), data: { id: 'a', n: 1 } },
          { topic: 'all', type: 'item.added', position: formatPosition(at(2)), data: { id: 'a', n: 1 } },
          { topic: 'item:b', type: 'item.added', position: formatPosition(at(3)), data: { id: 'b', nested: [1, null] } },
        ]);

        // The next batch starts where this one ended.
        const next = await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(3), to: at(9) }, writing(['c']));
        expect(next).toEqual({ kind: 'committed', checkpoint: at(9) });
        expect(await under().items(projectionSchema(projection))).toEqual(['a', 'b', 'c']);
      });

      it('answers checkpoint_moved, running nothing, when from is no longer the checkpoint', async () => {
        const projection = await projectionAt(5, ['a']);
        for (const from of [START, at(4), at(6)]) {
          const outcome = await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from, to: at(8) }, neverRuns);
          expect(outcome).toEqual({ kind: 'checkpoint_moved', checkpoint: at(5) });
        }
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(5));
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
      });

      it('answers checkpoint_moved when the stored version is not the batch version', async () => {
        const projection = await projectionAt(5, ['a'], 2);
        for (const version of [1, 3]) {
          const outcome = await store().commitBatch({ name: projection, version, schema: projectionSchema(projection), from: at(5), to: at(8) }, neverRuns);
          expect(outcome).toEqual({ kind: 'checkpoint_moved', checkpoint: at(5) });
        }
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
      });

      it('rolls everything back when the work returns an error, and reports it', async () => {
        const projection = await projectionAt(5, ['a']);
        const outcome = await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, async (sql) => {
          await insertItems(sql, ['b']);
          return err({ code: 'handler_refused', at: 7 });
        });
        expect(outcome).toEqual({ kind: 'rejected', reason: { code: 'handler_refused', at: 7 } });
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(5));
        expect(await under().changes(projection)).toEqual([]);
      });

      it('rolls everything back and throws when the work throws', async () => {
        const projection = await projectionAt(5, ['a']);
        const bug = new Error('handler bug');
        await expect(
          store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, async (sql) => {
            await insertItems(sql, ['b']);
            throw bug;
          }),
        ).rejects.toBe(bug);
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(5));
      });

      it("throws the store's own trouble when the connection dies mid-batch, having written nothing", async () => {
        const projection = await projectionAt(5, ['a']);
        const failure = await store()
          .commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, async (sql) => {
            await insertItems(sql, ['b']);
            await under().killConnection(sql);
            return ok([{ topics: ['item:b'], type: 'item.added', data: 'b', position: at(8) }]);
          })
          .then(
            (outcome) => ({ outcome }),
            (error: unknown) => ({ error }),
          );
        expect(failure).toHaveProperty('error');
        expect(store().isTransientError((failure as { error: unknown }).error)).toBe(true);
        expect(await under().items(projectionSchema(projection))).toEqual(['a']);
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(5));
        expect(await under().changes(projection)).toEqual([]);
        // The next attempt, on another connection, goes through.
        expect(await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, writing(['b']))).toEqual({ kind: 'committed', checkpoint: at(8) });
      });

      it('lets exactly one of two batches from the same checkpoint commit', async () => {
        const projection = await projectionAt(5);
        const batch = (id: string) =>
          store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, writing([id], [{ topics: [`item:${id}`], type: 't', data: id, position: at(8) }]));
        const outcomes = await Promise.all([batch('x'), batch('y')]);
        expect(outcomes.map((o) => o.kind).sort()).toEqual(['checkpoint_moved', 'committed']);
        expect(outcomes.find((o) => o.kind === 'checkpoint_moved')).toEqual({ kind: 'checkpoint_moved', checkpoint: at(8) });
        const items = await under().items(projectionSchema(projection));
        expect(items).toHaveLength(1);
        expect((await under().changes(projection)).map((c) => c.topic)).toEqual([`item:${items[0]}`]);
      });

      it('throws for a projection that was never registered', async () => {
        const projection = newName();
        await expect(store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: START, to: at(1) }, neverRuns)).rejects.toThrow();
      });
    });

    describe('commitBatches', () => {
      const part = (projection: string, from: Position, to: Position, work: TransactionWork<readonly PositionedChange[], unknown>) => ({
        batch: { name: projection, version: 1, schema: projectionSchema(projection), from, to },
        work,
      });

      it('commits several projections\' rows, checkpoints and realtime rows in one go', async () => {
        const [a, b] = [await projectionAt(0), await projectionAt(4, ['x'])];
        const outcomes = await store().commitBatches([
          part(a, START, at(9), writing(['a1', 'a2'], [{ topics: ['item:a1'], type: 'item.added', data: { id: 'a1' }, position: at(6) }])),
          part(b, at(4), at(9), writing(['b1'], [{ topics: ['item:b1', 'all'], type: 'item.added', data: 'b1', position: at(9) }])),
        ]);
        expect(outcomes).toEqual([
          { kind: 'committed', checkpoint: at(9) },
          { kind: 'committed', checkpoint: at(9) },
        ]);
        expect(await under().items(projectionSchema(a))).toEqual(['a1', 'a2']);
        expect(await under().items(projectionSchema(b))).toEqual(['b1', 'x']);
        expect(await store().readCheckpoints([a, b])).toEqual(new Map([[a, at(9)], [b, at(9)]]));
        expect(await under().changes(a)).toEqual([{ topic: 'item:a1', type: 'item.added', position: formatPosition(at(6)), data: { id: 'a1' } }]);
        expect((await under().changes(b)).map((c) => c.topic)).toEqual(['item:b1', 'all']);
      });

      it('keeps the parts apart: a rejected part and one whose checkpoint moved write nothing, the others commit', async () => {
        const [moved, refused, fine] = [await projectionAt(5, ['m']), await projectionAt(5, ['r']), await projectionAt(5, ['f'])];
        const outcomes = await store().commitBatches([
          part(moved, at(3), at(8), neverRuns),
          part(refused, at(5), at(8), async (sql) => {
            await insertItems(sql, ['r2']);
            return err({ code: 'handler_refused' });
          }),
          part(fine, at(5), at(8), writing(['f2'], [{ topics: ['item:f2'], type: 'item.added', data: 'f2', position: at(8) }])),
        ]);
        expect(outcomes).toEqual([
          { kind: 'checkpoint_moved', checkpoint: at(5) },
          { kind: 'rejected', reason: { code: 'handler_refused' } },
          { kind: 'committed', checkpoint: at(8) },
        ]);
        expect(await under().items(projectionSchema(moved))).toEqual(['m']);
        expect(await under().items(projectionSchema(refused))).toEqual(['r']);
        expect(await under().items(projectionSchema(fine))).toEqual(['f', 'f2']);
        expect(await store().readCheckpoints([moved, refused, fine])).toEqual(new Map([[moved, at(5)], [refused, at(5)], [fine, at(8)]]));
        expect(await under().changes(refused)).toEqual([]);
      });

      it('writes nothing and throws when a part\'s work throws', async () => {
        const [a, b] = [await projectionAt(5, ['a']), await projectionAt(5, ['b'])];
        const bug = new Error('handler bug');
        await expect(
          store().commitBatches([
            part(a, at(5), at(8), writing(['a2'])),
            part(b, at(5), at(8), async (sql) => {
              await insertItems(sql, ['b2']);
              throw bug;
            }),
          ]),
        ).rejects.toBe(bug);
        expect(await under().items(projectionSchema(a))).toEqual(['a']);
        expect(await store().readCheckpoints([a, b])).toEqual(new Map([[a, at(5)], [b, at(5)]]));
      });

      it('lets exactly one of two shared batches from the same checkpoints commit each part, without deadlock', async () => {
        const [a, b] = [await projectionAt(5), await projectionAt(5)];
        const both = (id: string, order: readonly string[]) =>
          store().commitBatches(order.map((name) => part(name, at(5), at(8), writing([`${name}-${id}`]))));
        const [x, y] = await Promise.all([both('x', [a, b]), both('y', [b, a])]);
        const kinds = [...(x ?? []), ...(y ?? [])].map((o) => o.kind).sort();
        expect(kinds).toEqual(['checkpoint_moved', 'checkpoint_moved', 'committed', 'committed']);
        expect(await under().items(projectionSchema(a))).toHaveLength(1);
        expect(await under().items(projectionSchema(b))).toHaveLength(1);
      });
    });

    describe('isTransientError', () => {
      it("tells the store's own trouble from the handler's", () => {
        expect(under().transientErrors.length).toBeGreaterThan(0);
        for (const error of under().transientErrors) expect(store().isTransientError(error), String(error)).toBe(true);
        for (const error of [new Error('handler bug'), new TypeError('x is undefined'), undefined, null, 'text', ...under().permanentErrors]) {
          expect(store().isTransientError(error), String(error)).toBe(false);
        }
      });
    });

    describe('failures', () => {
      it('records a failure where it stopped, keeps the checkpoint, and clears it once', async () => {
        const projection = await projectionAt(5, ['a']);
        await store().recordFailure(projection, { message: 'handler refused event e7', position: at(7), eventId: 'e7' });
        const [failed] = await store().read([projection]);
        expect(failed!.failure).toMatchObject({ message: 'handler refused event e7', position: at(7), eventId: 'e7' });
        expect(failed!.failure!.at).toBeInstanceOf(Date);
        expect(failed!.checkpoint).toEqual(at(5));

        expect(await store().clearFailure(projection)).toBe(true);
        expect((await store().read([projection]))[0]!.failure).toBeNull();
        expect(await store().clearFailure(projection)).toBe(false);
      });

      it('keeps a failure message that is never empty and of bounded length', async () => {
        const projection = await projectionAt(0);
        await store().recordFailure(projection, { message: '', position: at(1), eventId: 'e1' });
        expect((await store().read([projection]))[0]!.failure!.message).not.toBe('');
        await store().recordFailure(projection, { message: 'x'.repeat(100_000), position: at(2), eventId: 'e2' });
        const failure = (await store().read([projection]))[0]!.failure!;
        expect(failure.message.length).toBeGreaterThan(100);
        expect(failure.message.length).toBeLessThanOrEqual(4_000);
        expect(failure).toMatchObject({ position: at(2), eventId: 'e2' });
      });
    });

    describe('scratch schemas', () => {
      it('resets, writes into and drops a rebuild schema, leaving the live one alone', async () => {
        const projection = await projectionAt(5, ['live']);
        const scratch = rebuildSchema(projection);
        await store().resetSchema(scratch, ITEMS_DDL);
        expect(await under().items(scratch)).toEqual([]);
        expect(await store().applyInSchema(scratch, async (sql) => (await insertItems(sql, ['r1', 'r2']), ok(undefined)))).toEqual(ok(undefined));
        expect(await under().items(scratch)).toEqual(['r1', 'r2']);

        const refused = await store().applyInSchema(scratch, async (sql) => (await insertItems(sql, ['r3']), err('stop')));
        expect(refused).toEqual(err('stop'));
        const throwing = store().applyInSchema(scratch, async (sql) => {
          await insertItems(sql, ['r4']);
          throw new Error('bug');
        });
        await expect(throwing).rejects.toThrow('bug');
        expect(await under().items(scratch)).toEqual(['r1', 'r2']);

        await store().resetSchema(scratch, ITEMS_DDL);
        expect(await under().items(scratch)).toEqual([]);
        await store().applyInSchema(scratch, async (sql) => (await insertItems(sql, ['r5']), ok(undefined)));
        await store().dropSchema(scratch);
        expect(await under().items(scratch)).toEqual([]);
        await store().dropSchema(scratch);
        expect(await under().items(projectionSchema(projection))).toEqual(['live']);
        // Nothing written in a scratch schema moves the checkpoint or feeds realtime.
        expect((await store().readCheckpoints([projection])).get(projection)).toEqual(at(5));
        expect(await under().changes(projection)).toEqual([]);
      });

      it('refuses to reset, drop or switch from a schema that is not a scratch schema', async () => {
        const projection = await projectionAt(5, ['live']);
        const live = projectionSchema(projection);
        await expect(store().resetSchema(live, ITEMS_DDL)).rejects.toThrow();
        await expect(store().dropSchema(live)).rejects.toThrow();
        await expect(store().dropSchema('public')).rejects.toThrow();
        // Called as the rebuilder calls it, from an async function: a synchronous throw counts too.
        const switching = async () => store().finishRebuild({ spec: spec(projection, 2), schema: live, mode: 'switch' }, () => Promise.resolve(ok(at(5))));
        await expect(switching()).rejects.toThrow();
        expect(await under().items(live)).toEqual(['live']);
        expect((await store().read([projection]))[0]).toMatchObject({ version: 1, checkpoint: at(5) });
      });
    });

    describe('rebuild progress', () => {
      it('is visible while the rebuild lease is held, and gone when cleared', async () => {
        const projection = await projectionAt(0);
        const lease = await store().tryAcquireLease(projection, 'rebuild', 'rebuilder');
        expect(lease).toBeDefined();
        const startedAt = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
        await store().recordRebuildProgress(projection, { processed: 1_234, position: at(1_300), head: at(9_000), startedAt });
        expect((await store().read([projection]))[0]!.rebuild).toEqual({ processed: 1_234, position: at(1_300), head: at(9_000), startedAt });
        await store().recordRebuildProgress(projection, { processed: 1_500, position: at(1_600), head: undefined, startedAt });
        expect((await store().read([projection]))[0]!.rebuild).toMatchObject({ processed: 1_500, position: at(1_600) });
        expect((await store().read([projection]))[0]!.rebuild?.head).toBeUndefined();

        await store().recordRebuildProgress(projection, null);
        expect((await store().read([projection]))[0]!.rebuild).toBeNull();

        // Progress left behind by a rebuilder that is gone is not a running rebuild.
        await store().recordRebuildProgress(projection, { processed: 1, position: at(1), head: at(2), startedAt });
        await lease!.release();
        expect((await store().read([projection]))[0]!.rebuild).toBeNull();
      });
    });

    describe('finishRebuild', () => {
      async function rebuilt(projection: string, ids: readonly string[], schema = rebuildSchema(projection)): Promise<string> {
        await store().resetSchema(schema, ITEMS_DDL);
        await store().applyInSchema(schema, async (sql) => (await insertItems(sql, ids), ok(undefined)));
        return schema;
      }

      it('switch: catches up from the live checkpoint, swaps the schemas, sets the version and clears a failure', async () => {
        const projection = await projectionAt(5, ['old']);
        await store().recordFailure(projection, { message: 'stuck', position: at(6), eventId: 'e6' });
        const scratch = await rebuilt(projection, ['new1']);
        const seen: Position[] = [];
        const outcome = await store().finishRebuild({ spec: spec(projection, 2), schema: scratch, mode: 'switch' }, async (sql, live) => {
          seen.push(live);
          await insertItems(sql, ['new2']);
          return ok(at(7));
        });
        expect(seen).toEqual([at(5)]);
        expect(outcome).toEqual({ kind: 'switched', checkpoint: at(7) });
        expect(await under().items(projectionSchema(projection))).toEqual(['new1', 'new2']);
        expect(await under().items(scratch)).toEqual([]);
        expect((await store().read([projection]))[0]).toMatchObject({ version: 2, checkpoint: at(7), failure: null });

        // The old version's runner steps aside; the new one carries on.
        expect(await store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(7), to: at(9) }, neverRuns)).toEqual({ kind: 'checkpoint_moved', checkpoint: at(7) });
        expect(await store().commitBatch({ name: projection, version: 2, schema: projectionSchema(projection), from: at(7), to: at(9) }, writing(['new3']))).toEqual({ kind: 'committed', checkpoint: at(9) });
        expect(await under().items(projectionSchema(projection))).toEqual(['new1', 'new2', 'new3']);
      });

      it('switch: keeps the live checkpoint when the catch-up reached less', async () => {
        const projection = await projectionAt(5, ['old']);
        const scratch = await rebuilt(projection, ['new']);
        const outcome = await store().finishRebuild({ spec: spec(projection, 1), schema: scratch, mode: 'switch' }, () => Promise.resolve(ok(at(3))));
        expect(outcome).toEqual({ kind: 'switched', checkpoint: at(5) });
        expect((await store().read([projection]))[0]).toMatchObject({ version: 1, checkpoint: at(5) });
        expect(await under().items(projectionSchema(projection))).toEqual(['new']);
      });

      it('compare: counts the rows on one side only, then rolls everything back', async () => {
        const projection = await projectionAt(5, ['a', 'b']);
        const scratch = await rebuilt(projection, ['a', 'c'], auditSchema(projection));
        const outcome = await store().finishRebuild({ spec: spec(projection, 1), schema: scratch, mode: 'compare' }, async (sql, live) => {
          expect(live).toEqual(at(5));
          await insertItems(sql, ['d']);
          return ok(at(6));
        });
        expect(outcome.kind).toBe('compared');
        if (outcome.kind !== 'compared') return;
        expect(outcome.checkpoint).toEqual(at(6));
        // b is live only; c and d (written by the catch-up) are rebuilt only.
        expect(outcome.differences.count).toBe(3);
        // A sample of a few rows is all of them here.
        expect(outcome.differences.sample.map((s) => [s.table, s.side]).sort()).toEqual([
          ['items', 'live'],
          ['items', 'rebuilt'],
          ['items', 'rebuilt'],
        ]);

        expect(await under().items(scratch)).toEqual(['a', 'c']);
        expect(await under().items(projectionSchema(projection))).toEqual(['a', 'b']);
        expect((await store().read([projection]))[0]).toMatchObject({ version: 1, checkpoint: at(5) });

        const same = await rebuilt(projection, ['a', 'b'], auditSchema(projection));
        const equal = await store().finishRebuild({ spec: spec(projection, 1), schema: same, mode: 'compare' }, (_sql, live) => Promise.resolve(ok(live)));
        expect(equal).toEqual({ kind: 'compared', checkpoint: at(5), differences: { count: 0, sample: [] } });
        await store().dropSchema(same);
      });

      it('rejected: a catch-up error changes nothing', async () => {
        const projection = await projectionAt(5, ['old']);
        const scratch = await rebuilt(projection, ['new']);
        const outcome = await store().finishRebuild({ spec: spec(projection, 2), schema: scratch, mode: 'switch' }, async (sql) => {
          await insertItems(sql, ['partial']);
          return err('event store unreachable');
        });
        expect(outcome).toEqual({ kind: 'rejected', reason: 'event store unreachable' });
        expect(await under().items(projectionSchema(projection))).toEqual(['old']);
        expect(await under().items(scratch)).toEqual(['new']);
        expect((await store().read([projection]))[0]).toMatchObject({ version: 1, checkpoint: at(5) });
      });

      it('holds the live runner off until the switch is done; its batch then steps aside', async () => {
        const projection = await projectionAt(5, ['old']);
        const scratch = await rebuilt(projection, ['new']);
        let releaseCatchUp: () => void = () => undefined;
        const catchUpHeld = new Promise<void>((resolve) => (releaseCatchUp = resolve));
        let catchUpStarted = false;
        const switching = store().finishRebuild({ spec: spec(projection, 2), schema: scratch, mode: 'switch' }, async (_sql, live) => {
          catchUpStarted = true;
          await catchUpHeld;
          return ok(live);
        });
        await vi.waitFor(() => expect(catchUpStarted).toBe(true), { timeout: 5_000, interval: 5 });
        let batchRan = false;
        const batch = store().commitBatch({ name: projection, version: 1, schema: projectionSchema(projection), from: at(5), to: at(8) }, async (sql) => {
          batchRan = true;
          return writing(['late'])(sql);
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        releaseCatchUp();
        expect(await switching).toEqual({ kind: 'switched', checkpoint: at(5) });
        expect(await batch).toEqual({ kind: 'checkpoint_moved', checkpoint: at(5) });
        expect(batchRan).toBe(false);
        expect(await under().items(projectionSchema(projection))).toEqual(['new']);
      });
    });
  });
}
