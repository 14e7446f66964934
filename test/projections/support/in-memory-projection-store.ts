import type { Position } from '../../../src/application/ports/position.js';
import { START, comparePositions } from '../../../src/application/ports/position.js';
import type {
  BatchOutcome,
  FinishRebuildOutcome,
  LeasePurpose,
  PositionedChange,
  ProjectionFailure,
  ProjectionLease,
  ProjectionRecord,
  ProjectionSpec,
  ProjectionStore,
  RebuildProgress,
  TransactionWork,
} from '../../../src/application/ports/projection-store.js';
import type { SqlExecutor } from '../../../src/application/ports/sql.js';
import type { Result } from '../../../src/domain/result.js';

/** A statement a test projection "ran"; the fake keeps committed ones per schema. */
export interface Statement {
  readonly text: string;
  readonly params: readonly unknown[];
}

interface MutableRecord {
  name: string;
  version: number;
  checkpoint: Position;
  failure: (ProjectionFailure & { at: Date }) | null;
  updatedAt: Date;
}

/** The fake's transient error, as the real store would classify a lost connection. */
export class TransientError extends Error {
  readonly transient = true;
}

/**
 * ProjectionStore in memory, with the real one's semantics where the runner relies on
 * them: a per-projection lock around each transaction, the conditional checkpoint, and
 * buffered writes that appear only on commit.
 */
export class InMemoryProjectionStore implements ProjectionStore {
  readonly records = new Map<string, MutableRecord>();
  readonly schemas = new Map<string, Statement[]>();
  readonly realtime: (PositionedChange & { projection: string })[] = [];
  readonly notifications: string[] = [];
  readonly leases = new Map<string, { holder: string; controller: AbortController }>();
  /** False: every caller gets a lease, as if leases were broken; the checkpoint must still prevent double application. */
  exclusiveLeases = true;
  /** Thrown by the next commit (after the work ran), as a dying connection would. */
  failNextCommit: Error | undefined;
  commits = 0;
  private readonly locks = new Map<string, Promise<void>>();

  async tryAcquireLease(name: string, purpose: LeasePurpose, holder: string): Promise<ProjectionLease | undefined> {
    await Promise.resolve();
    const key = `${purpose}:${name}`;
    if (this.exclusiveLeases && this.leases.has(key)) return undefined;
    const controller = new AbortController();
    this.leases.set(key, { holder, controller });
    return {
      lost: controller.signal,
      release: async () => {
        await Promise.resolve();
        if (this.leases.get(key)?.controller === controller) this.leases.delete(key);
      },
    };
  }

  /** As if the lease's connection died. */
  loseLease(name: string, purpose: LeasePurpose = 'run'): void {
    const key = `${purpose}:${name}`;
    const lease = this.leases.get(key);
    this.leases.delete(key);
    lease?.controller.abort();
  }

  leaderOf(name: string): string | undefined {
    return this.leases.get(`run:${name}`)?.holder;
  }

  async register(spec: ProjectionSpec): Promise<ProjectionRecord> {
    await Promise.resolve();
    if (!this.records.has(spec.name)) {
      this.records.set(spec.name, { name: spec.name, version: spec.version, checkpoint: START, failure: null, updatedAt: new Date() });
      this.schemas.set(`rm_${spec.name}`, []);
    }
    return this.snapshot(this.records.get(spec.name) as MutableRecord);
  }

  async read(names?: readonly string[]): Promise<ProjectionRecord[]> {
    await Promise.resolve();
    return [...this.records.values()].filter((r) => !names || names.includes(r.name)).map((r) => this.snapshot(r));
  }

  async readCheckpoints(names: readonly string[]): Promise<Map<string, Position>> {
    await Promise.resolve();
    return new Map([...this.records.values()].filter((r) => names.includes(r.name)).map((r) => [r.name, r.checkpoint]));
  }

  commitBatch<F>(
    batch: { readonly name: string; readonly schema: string; readonly from: Position; readonly to: Position },
    work: TransactionWork<readonly PositionedChange[], F>,
  ): Promise<BatchOutcome<F>> {
    return this.locked(batch.name, async () => {
      const record = this.records.get(batch.name);
      if (!record) throw new Error(`not registered: ${batch.name}`);
      if (comparePositions(record.checkpoint, batch.from) !== 0) return { kind: 'checkpoint_moved', checkpoint: record.checkpoint };
      const { sql, pending } = bufferingExecutor();
      const done = await work(sql);
      if (!done.ok) return { kind: 'rejected', reason: done.error };
      if (this.failNextCommit) {
        const error = this.failNextCommit;
        this.failNextCommit = undefined;
        throw error;
      }
      this.schemaRows(batch.schema).push(...pending);
      for (const change of done.value) this.realtime.push({ ...change, projection: batch.name });
      record.checkpoint = batch.to;
      record.updatedAt = new Date();
      this.notifications.push(batch.name);
      this.commits += 1;
      return { kind: 'committed', checkpoint: batch.to };
    });
  }

  isTransientError(error: unknown): boolean {
    return error instanceof TransientError;
  }

  async recordFailure(name: string, failure: ProjectionFailure): Promise<void> {
    await Promise.resolve();
    const record = this.records.get(name);
    if (record) record.failure = { ...failure, at: new Date() };
  }

  async clearFailure(name: string): Promise<boolean> {
    await Promise.resolve();
    const record = this.records.get(name);
    if (!record?.failure) return false;
    record.failure = null;
    return true;
  }

  async resetSchema(schema: string): Promise<void> {
    await Promise.resolve();
    this.schemas.set(schema, []);
  }

  async dropSchema(schema: string): Promise<void> {
    await Promise.resolve();
    this.schemas.delete(schema);
  }

  async applyInSchema<F>(schema: string, work: TransactionWork<void, F>): Promise<Result<void, F>> {
    const { sql, pending } = bufferingExecutor();
    const done = await work(sql);
    if (done.ok) this.schemaRows(schema).push(...pending);
    return done;
  }

  async recordRebuildProgress(_name: string, _progress: RebuildProgress | null): Promise<void> {
    await Promise.resolve();
  }

  finishRebuild<F>(
    request: { readonly spec: ProjectionSpec; readonly schema: string; readonly mode: 'switch' | 'compare' },
    catchUp: (sql: SqlExecutor, liveCheckpoint: Position) => Promise<Result<Position, F>>,
  ): Promise<FinishRebuildOutcome<F>> {
    const { spec, schema, mode } = request;
    return this.locked(spec.name, async () => {
      const record = this.records.get(spec.name) as MutableRecord;
      const { sql, pending } = bufferingExecutor();
      const reached = await catchUp(sql, record.checkpoint);
      if (!reached.ok) return { kind: 'rejected', reason: reached.error };
      const checkpoint = comparePositions(reached.value, record.checkpoint) > 0 ? reached.value : record.checkpoint;
      const rebuilt = [...this.schemaRows(schema), ...pending];
      if (mode === 'compare') {
        const live = this.schemaRows(`rm_${spec.name}`).map((s) => JSON.stringify(s));
        const other = rebuilt.map((s) => JSON.stringify(s));
        const count = live.filter((s) => !other.includes(s)).length + other.filter((s) => !live.includes(s)).length;
        return { kind: 'compared', checkpoint, differences: { count, sample: [] } };
      }
      this.schemas.set(`rm_${spec.name}`, rebuilt);
      this.schemas.delete(schema);
      record.version = spec.version;
      record.checkpoint = checkpoint;
      record.failure = null;
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

  private snapshot(r: MutableRecord): ProjectionRecord {
    return { ...r, leader: this.leaderOf(r.name) ?? null, rebuild: null };
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

function bufferingExecutor(): { sql: SqlExecutor; pending: Statement[] } {
  const pending: Statement[] = [];
  const sql: SqlExecutor = {
    query: async <R>(text: string, params: readonly unknown[] = []) => {
      await Promise.resolve();
      pending.push({ text, params });
      return { rows: [] as R[], rowCount: 0 };
    },
  };
  return { sql, pending };
}

