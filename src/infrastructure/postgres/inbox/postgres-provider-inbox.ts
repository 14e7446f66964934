import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type {
  InboxClaim,
  InboxEntry,
  InboxEntryWithPayload,
  InboxFinish,
  InboxPage,
  InboxRetryResult,
  InboxStatus,
  NewInboxEntry,
  ProviderInbox,
} from '../../../application/ports/provider-inbox.js';
import type { SqlExecutor } from '../../../application/ports/sql.js';
import { inTransaction } from '../projections/transaction.js';
import { sqlExecutor } from '../sql-executor.js';
import { CLAIM_SQL, FINISH_ALL_SQL, GET_SQL, LIST_SQL, PRUNE_SQL, RECORD_SQL, RESCHEDULE_SQL, RETRY_SQL, STATUS_SQL } from './inbox-sql.js';

interface EntryRow {
  id: string;
  provider: string;
  event_id: string;
  type: string;
  object_id: string | null;
  provider_created_at: Date;
  received_at: Date;
  status: InboxStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  outcome: string | null;
  processed_at: Date | null;
  payload?: unknown;
}

interface ClaimRow {
  id: string;
  provider: string;
  event_id: string;
  type: string;
  provider_created_at: Date;
  payload: unknown;
  attempts: number;
}

/** Error texts are kept, bounded: an operator needs the gist, not a megabyte of stack. */
export const MAX_INBOX_ERROR_CHARS = 2_000;
const bounded = (text: string | null): string | null => (text === null || text.length <= MAX_INBOX_ERROR_CHARS ? text : `${text.slice(0, MAX_INBOX_ERROR_CHARS - 1)}…`);

/** Rows deleted per statement when pruning, so a long backlog never holds one long transaction. */
export const INBOX_PRUNE_BATCH = 1_000;
/** Batches per pruning run: the rest waits for the next run. */
export const INBOX_PRUNE_MAX_BATCHES = 100;

/** A bigint id as we issue them; anything else names no entry (and never reaches SQL as a cast error). */
const isEntryId = (id: string): boolean => /^[1-9]\d{0,17}$/.test(id);

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function entryOf(row: EntryRow): InboxEntry {
  return {
    id: row.id,
    provider: row.provider,
    eventId: row.event_id,
    type: row.type,
    objectId: row.object_id,
    providerCreatedAt: row.provider_created_at.toISOString(),
    receivedAt: row.received_at.toISOString(),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: iso(row.next_attempt_at),
    lastError: row.last_error,
    outcome: row.outcome,
    processedAt: iso(row.processed_at),
  };
}

export interface PostgresProviderInboxOptions {
  /**
   * When given, the processor's own writes (claim, finish, reschedule) commit without
   * waiting for the WAL flush (synchronous_commit off, for that transaction only). Safe:
   * a claim or finish lost in a crash leaves the row pending or claimed, the claim lapses,
   * and the event is processed again, which the handler's idempotent writes absorb. The
   * acknowledgement's INSERT always waits for the flush: a 2xx tells Stripe it is durable.
   * It keeps the processor's commits from queueing behind the endpoint's fsyncs.
   */
  readonly relaxedProcessorCommits?: pg.Pool | undefined;
  /**
   * How long a recorded event waits before it is first due. Stripe sends the event for a
   * capture or cancel we made as soon as it answered us, and our own command appends its
   * event a moment later: processing the webhook first would record the change under the
   * webhook's name and make the command conflict. A short wait lets our own write land first.
   */
  readonly firstAttemptDelayMs?: number | undefined;
}

/** The inbox in PostgreSQL (schema.ts, inbox-sql.ts). */
export class PostgresProviderInbox implements ProviderInbox {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly options: PostgresProviderInboxOptions = {},
  ) {}

  /** A processor write, with relaxed durability when configured (see PostgresProviderInboxOptions). */
  private processorWrite<R>(text: string, params: readonly unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    const pool = this.options.relaxedProcessorCommits;
    if (!pool) return this.sql.query<R>(text, params);
    return inTransaction(pool, async (client) => {
      await client.query(`SELECT set_config('synchronous_commit', 'off', true)`);
      return { commit: true, value: await sqlExecutor(client).query<R>(text, params) };
    });
  }

  async record(entry: NewInboxEntry): Promise<{ duplicate: boolean }> {
    const result = await this.sql.query(RECORD_SQL, [entry.provider, entry.eventId, entry.type, entry.objectId, entry.providerCreatedAt, entry.payloadJson, this.options.firstAttemptDelayMs ?? 0]);
    return { duplicate: result.rows.length === 0 };
  }

  async claimDue(limit: number, leaseMs: number): Promise<InboxClaim[]> {
    const token = randomUUID();
    const result = await this.processorWrite<ClaimRow>(CLAIM_SQL, [limit, leaseMs, token]);
    return result.rows.map((r) => ({
      id: r.id,
      provider: r.provider,
      eventId: r.event_id,
      type: r.type,
      providerCreatedAt: r.provider_created_at,
      payload: r.payload,
      attempts: r.attempts,
      claimToken: token,
    }));
  }

  async finishAll(finished: readonly InboxFinish[]): Promise<readonly string[]> {
    if (finished.length === 0) return [];
    const result = await this.processorWrite<{ id: string }>(FINISH_ALL_SQL, [
      finished.map((f) => f.claim.id),
      finished.map((f) => f.claim.claimToken),
      finished.map((f) => f.status),
      finished.map((f) => bounded(f.outcome)),
      finished.map((f) => bounded(f.error)),
    ]);
    const written = new Set(result.rows.map((r) => r.id));
    return finished.map((f) => f.claim.id).filter((id) => !written.has(id));
  }

  async reschedule(claim: InboxClaim, error: string, delayMs: number): Promise<boolean> {
    const result = await this.processorWrite(RESCHEDULE_SQL, [claim.id, claim.claimToken, bounded(error), delayMs]);
    return result.rowCount === 1;
  }

  async list(query: { status?: InboxStatus | undefined; limit: number; before?: string | undefined }): Promise<InboxPage> {
    if (query.before !== undefined && !isEntryId(query.before)) return { data: [], nextBefore: null };
    const result = await this.sql.query<EntryRow>(LIST_SQL, [query.status ?? null, query.before ?? null, query.limit + 1]);
    const rows = result.rows.slice(0, query.limit);
    const more = result.rows.length > query.limit;
    return { data: rows.map(entryOf), nextBefore: more ? (rows.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<InboxEntryWithPayload | undefined> {
    if (!isEntryId(id)) return undefined;
    const row = (await this.sql.query<EntryRow>(GET_SQL, [id])).rows[0];
    return row ? { ...entryOf(row), payload: row.payload } : undefined;
  }

  /**
   * Deletes processed and ignored entries older than `retentionDays` (not part of the port:
   * a housekeeping task's). Keep them longer than Stripe retries a delivery (3 days), or a
   * late retry would be recorded again (and processed again, harmlessly: its writes are
   * idempotent). Answers how many were deleted.
   */
  async pruneDone(retentionDays: number): Promise<number> {
    let deleted = 0;
    for (let batch = 0; batch < INBOX_PRUNE_MAX_BATCHES; batch++) {
      const result = await this.sql.query(PRUNE_SQL, [retentionDays, INBOX_PRUNE_BATCH]);
      deleted += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < INBOX_PRUNE_BATCH) break;
    }
    return deleted;
  }

  async retry(id: string): Promise<InboxRetryResult> {
    if (!isEntryId(id)) return { status: 'not_found' };
    const row = (await this.sql.query<EntryRow>(RETRY_SQL, [id])).rows[0];
    if (row) return { status: 'scheduled', entry: entryOf(row) };
    const current = (await this.sql.query<{ status: InboxStatus }>(STATUS_SQL, [id])).rows[0];
    return current ? { status: 'not_retryable', current: current.status } : { status: 'not_found' };
  }
}
