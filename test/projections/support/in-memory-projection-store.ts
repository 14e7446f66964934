import type { Position } from '../../../src/application/ports/position.js';
import { START, comparePositions } from '../../../src/application/ports/position.js';
import type * as port from '../../../src/application/ports/projection-store.js';
import type { SqlExecutor } from '../../../src/application/ports/sql.js';
import type { Result } from '../../../src/domain/result.js';
import { assertScratch, storedFailureMessage } from '../../../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { assertProjectionName } from '../../../src/projections/apply-events.js';
import { projectionSchema } from '../../../src/projections/projection.js';

/** A statement a test projection "ran"; the fake keeps committed ones per schema. */
export interface Statement {
  readonly text: string;
  readonly params: readonly unknown[];
}

interface MutableRecord {
  name: string;
  version: number;
  checkpoint: Position;
  failure: (port.ProjectionFailure & { at: Date }) | null;
  rebuild: port.RebuildProgress | null;
  updatedAt: Date;
}

interface HeldLease {
  readonly holder: string;
  readonly controller: AbortController;
  /** The instance whose "connection" holds it. */
  readonly instance: InMemoryProjectionStore;
}

/** The fake's transient error, as the real store would classify a lost connection. */
export class TransientError extends Error {
  readonly transient = true;
}

/** As many differing rows as the PostgreSQL comparison shows the operator. */
const SAMPLE_SIZE = 10;

/**
 * ProjectionStore in memory, with the real one's semantics: a per-projection lock around
 * each transaction, the conditional checkpoint and version, buffered writes that appear
 * only on commit, scratch-only resets, rebuild progress visible while its lease is held.
 * test/projection-store/in-memory-projection-store.unit.test.ts runs it through the same
 * contract suite as PostgresProjectionStore. It runs no SQL: a schema is the list of
 * statements committed into it.
 */
export class InMemoryProjectionStore implements port.ProjectionStore {
  // What several instances share, as several service instances share one database.
  readonly records: Map<string, MutableRecord>;
  readonly schemas: Map<string, Statement[]>;
  readonly realtime: (port.PositionedChange & { projection: string })[];
  readonly notifications: string[];
  readonly leases: Map<string, HeldLease>;
  private readonly locks: Map<string, Promise<void>>;
  /** False: every caller gets a lease, as if leases were broken; the checkpoint must still prevent double application. */
  exclusiveLeases = true;
  /** Thrown by the next commit (after the work ran), as a dying connection would. */
  failNextCommit: Error | undefined;
  commits = 0;

  /** With `sharing`: another instance over that store's state (a second service instance). */
  constructor(sharing?: InMemoryProjectionStore) {
    this.records = sharing?.records ?? new Map();
    this.schemas = sharing?.schemas ?? new Map();
    this.realtime = sharing?.realtime ?? [];
    this.notifications = sharing?.notifications ?? [];
    this.leases = sharing?.leases ?? new Map();
    this.locks = sharing?.locks ?? new Map();
  }

  async tryAcquireLease(name: string, purpose: port.LeasePurpose, holder: string): Promise<port.ProjectionLease | undefined> {
    await Promise.resolve();
    const key = `${purpose}:${name}`;
    if (this.exclusiveLeases && this.leases.has(key)) return undefined;
    const controller = new AbortController();
    this.leases.set(key, { holder, controller, instance: this });
    return {
      lost: controller.signal,
      release: async () => {
        await Promise.resolve();
        if (this.leases.get(key)?.controller === controller) this.leases.delete(key);
      },
    };
  }

  /** As if the lease's connection died. */
  loseLease(name: string, purpose: port.LeasePurpose = 'run'): void {
    const key = `${purpose}:${name}`;
    const lease = this.leases.get(key);
    this.leases.delete(key);
    lease?.controller.abort();
  }

  /** As if the one connection that holds every lease of this instance died. */
  loseAllLeases(): void {
    for (const [key, lease] of [...this.leases]) {
      if (lease.instance !== this) continue;
      this.leases.delete(key);
      lease.controller.abort();
    }
  }

  leaderOf(name: string): string | undefined {
    return this.leases.get(`run:${name}`)?.holder;
  }

  async register(spec: port.ProjectionSpec): Promise<port.ProjectionRecord> {
    await Promise.resolve();
    // The database refuses such a name (a CHECK constraint): it could not name a schema.
    assertProjectionName(spec.name);
    if (!this.records.has(spec.name)) {
      this.records.set(spec.name, { name: spec.name, version: spec.version, checkpoint: START, failure: null, rebuild: null, updatedAt: new Date() });
      this.schemaRows(projectionSchema(spec.name));
    }
    return this.snapshot(this.record(spec.name));
  }

  async read(names?: readonly string[]): Promise<port.ProjectionRecord[]> {
    await Promise.resolve();
    return [...this.records.values()]
      .filter((r) => !names || names.includes(r.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => this.snapshot(r));
  }

  async readCheckpoints(names: readonly string[]): Promise<Map<string, Position>> {
    await Promise.resolve();
    return new Map([...this.records.values()].filter((r) => names.includes(r.name)).map((r) => [r.name, r.checkpoint]));
  }

  commitBatch<F>(
    batch: { readonly name: string; readonly version: number; readonly schema: string; readonly from: Position; readonly to: Position },
    work: port.TransactionWork<readonly port.PositionedChange[], F>,
  ): Promise<port.BatchOutcome<F>> {
    return this.locked(batch.name, async () => {
      const record = this.record(batch.name);
      // A rebuild may have switched in rows of another version at the same checkpoint.
      if (comparePositions(record.checkpoint, batch.from) !== 0 || record.version !== batch.version) {
        return { kind: 'checkpoint_moved', checkpoint: record.checkpoint };
      }
      const { sql, pending } = bufferingExecutor();
      const done = await work(sql);
      if (!done.ok) return { kind: 'rejected', reason: done.error };
      if (this.failNextCommit) {
        const error = this.failNextCommit;
        this.failNextCommit = undefined;
        throw error;
      }
      this.schemaRows(batch.schema).push(...pending);
      // Stored as JSON, as realtime_changes stores it.
      for (const change of done.value) this.realtime.push({ ...change, data: JSON.parse(JSON.stringify(change.data ?? null)) as unknown, projection: batch.name });
      record.checkpoint = batch.to;
      record.updatedAt = new Date();
      this.notifications.push(batch.name);
      this.commits += 1;
      return { kind: 'committed', checkpoint: batch.to };
    });
  }

  /** One "transaction": every record locked in name order, each part buffered, all effects applied at the end or none. */
  commitBatches<F>(parts: readonly port.BatchPart<F>[]): Promise<port.BatchOutcome<F>[]> {
    const names = parts.map((p) => p.batch.name);
    if (new Set(names).size !== names.length) throw new Error(`commitBatches: a projection appears twice in ${names.join(', ')}`);
    const run = async (): Promise<port.BatchOutcome<F>[]> => {
      const outcomes: port.BatchOutcome<F>[] = [];
      const effects: (() => void)[] = [];
      for (const { batch, work } of parts) {
        const record = this.record(batch.name);
        if (comparePositions(record.checkpoint, batch.from) !== 0 || record.version !== batch.version) {
          outcomes.push({ kind: 'checkpoint_moved', checkpoint: record.checkpoint });
          continue;
        }
        const { sql, pending } = bufferingExecutor();
        const done = await work(sql);
        if (!done.ok) {
          outcomes.push({ kind: 'rejected', reason: done.error });
          continue;
        }
        effects.push(() => {
          this.schemaRows(batch.schema).push(...pending);
          for (const change of done.value) this.realtime.push({ ...change, data: JSON.parse(JSON.stringify(change.data ?? null)) as unknown, projection: batch.name });
          record.checkpoint = batch.to;
          record.updatedAt = new Date();
          this.notifications.push(batch.name);
        });
        outcomes.push({ kind: 'committed', checkpoint: batch.to });
      }
      if (effects.length > 0 && this.failNextCommit) {
        const error = this.failNextCommit;
        this.failNextCommit = undefined;
        throw error;
      }
      for (const effect of effects) effect();
      if (effects.length > 0) this.commits += 1;
      return outcomes;
    };
    const lockAll = (remaining: readonly string[]): Promise<port.BatchOutcome<F>[]> => {
      const [first, ...rest] = remaining;
      return first === undefined ? run() : this.locked(first, () => lockAll(rest));
    };
    return lockAll([...names].sort());
  }

  isTransientError(error: unknown): boolean {
    return error instanceof TransientError;
  }

  async recordFailure(name: string, failure: port.ProjectionFailure): Promise<void> {
    await Promise.resolve();
    const record = this.records.get(name);
    if (!record) return;
    record.failure = { ...failure, message: storedFailureMessage(failure.message), at: new Date() };
    record.updatedAt = new Date();
  }

  async clearFailure(name: string): Promise<boolean> {
    await Promise.resolve();
    const record = this.records.get(name);
    if (!record?.failure) return false;
    record.failure = null;
    record.updatedAt = new Date();
    return true;
  }

  async resetSchema(schema: string): Promise<void> {
    assertScratch(schema);
    await Promise.resolve();
    this.schemas.set(schema, []);
  }

  async dropSchema(schema: string): Promise<void> {
    assertScratch(schema);
    await Promise.resolve();
    this.schemas.delete(schema);
  }

  async applyInSchema<F>(schema: string, work: port.TransactionWork<void, F>): Promise<Result<void, F>> {
    const { sql, pending } = bufferingExecutor();
    const done = await work(sql);
    if (done.ok) this.schemaRows(schema).push(...pending);
    return done;
  }

  async recordRebuildProgress(name: string, progress: port.RebuildProgress | null): Promise<void> {
    await Promise.resolve();
    const record = this.records.get(name);
    if (record) record.rebuild = progress;
  }

  finishRebuild<F>(
    request: { readonly spec: port.ProjectionSpec; readonly schema: string; readonly mode: 'switch' | 'compare' },
    catchUp: (sql: SqlExecutor, liveCheckpoint: Position) => Promise<Result<Position, F>>,
  ): Promise<port.FinishRebuildOutcome<F>> {
    const { spec, schema, mode } = request;
    assertScratch(schema);
    const live = projectionSchema(spec.name);
    return this.locked(spec.name, async () => {
      const record = this.record(spec.name);
      const { sql, pending } = bufferingExecutor();
      const reached = await catchUp(sql, record.checkpoint);
      if (!reached.ok) return { kind: 'rejected', reason: reached.error };
      const checkpoint = comparePositions(reached.value, record.checkpoint) > 0 ? reached.value : record.checkpoint;
      const rebuilt = [...this.schemaRows(schema), ...pending];
      if (mode === 'compare') return { kind: 'compared', checkpoint, differences: compareStatements(this.schemaRows(live), rebuilt) };
      this.schemas.set(live, rebuilt);
      this.schemas.delete(schema);
      record.version = spec.version;
      record.checkpoint = checkpoint;
      record.failure = null;
      record.updatedAt = new Date();
      this.notifications.push(spec.name);
      return { kind: 'switched', checkpoint };
    });
  }

  /** Ids of the events a test projection applied, in commit order. */
  appliedIds(schema: string): unknown[] {
    return this.schemaRows(schema)
      .filter((s) => s.text.startsWith('INSERT INTO applied'))
      .map((s) => s.params[0]);
  }

  schemaRows(schema: string): Statement[] {
    let rows = this.schemas.get(schema);
    if (!rows) this.schemas.set(schema, (rows = []));
    return rows;
  }

  private record(name: string): MutableRecord {
    const record = this.records.get(name);
    if (!record) throw new Error(`projection ${name} is not registered`);
    return record;
  }

  private snapshot(r: MutableRecord): port.ProjectionRecord {
    // Progress counts only while a rebuilder holds the lease: one that died left it behind.
    const rebuilding = this.leases.has(`rebuild:${r.name}`);
    return { ...r, leader: this.leaderOf(r.name) ?? null, rebuild: rebuilding ? r.rebuild : null };
  }

  /** Serialises transactions per projection, like SELECT … FOR UPDATE on its record. */
  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn);
    this.locks.set(
      name,
      run.then(
        () => undefined,
        () => undefined,
      ),
    );
    return run;
  }
}

/** Statements on one side only (a multiset difference each way), as the PostgreSQL comparison counts rows. */
function compareStatements(live: readonly Statement[], rebuilt: readonly Statement[]): port.SchemaDifferences {
  const onlyIn = (side: readonly Statement[], other: readonly Statement[]): Statement[] => {
    const remaining = other.map((s) => JSON.stringify(s));
    return side.filter((s) => {
      const i = remaining.indexOf(JSON.stringify(s));
      if (i === -1) return true;
      remaining.splice(i, 1);
      return false;
    });
  };
  const differing = [
    ...onlyIn(live, rebuilt).map((row) => ({ side: 'live' as const, row })),
    ...onlyIn(rebuilt, live).map((row) => ({ side: 'rebuilt' as const, row })),
  ];
  const tableOf = (s: Statement): string => /^INSERT INTO (\w+)/i.exec(s.text)?.[1] ?? 'unknown';
  return {
    count: differing.length,
    sample: differing.slice(0, SAMPLE_SIZE).map(({ side, row }) => ({ table: tableOf(row), side, row })),
  };
}

function bufferingExecutor(): { sql: SqlExecutor; pending: Statement[] } {
  const pending: Statement[] = [];
  const sql: SqlExecutor = {
    query: async <R>(text: string, params: readonly unknown[] = []) => {
      await Promise.resolve();
      // DDL (a rebuild's deferred indexes) makes no row.
      if (!/^\s*CREATE\b/i.test(text)) pending.push({ text, params });
      return { rows: [] as R[], rowCount: 0 };
    },
  };
  return { sql, pending };
}
