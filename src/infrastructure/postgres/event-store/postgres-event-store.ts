import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  WrongExpectedVersion,
  streamRevision,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type StreamRevision,
  type SubscribeOptions,
} from '../../../application/ports/event-store.js';
import { START, position, type Position } from '../../../application/ports/position.js';
import { WakeSignal } from '../../../application/support/timing.js';
import { dedicatedClient, PgNotificationListener } from '../notifications/pg-notification-listener.js';
import { appendParams, checkStreamId, INT8_MAX } from './append-request.js';
import { EVENT_COLUMNS, eventsOf, int8, queryArrays } from './event-rows.js';
import { KnownRevisions } from './known-revisions.js';
import { NotificationSender } from './notification-sender.js';
import { ReadAhead } from './read-ahead.js';
import { runAppend, type AppendRow } from './append-statements.js';

export { appendParams };

export interface PostgresEventStoreOptions {
  /**
   * How often a live subscriber polls when nothing wakes it. Notifications normally wake it
   * at once; the poll covers lost notifications and events that stayed invisible behind an
   * older, still-open transaction. Default 500 ms.
   */
  readonly pollIntervalMs?: number;
  /** LISTEN/NOTIFY channel shared by every instance on the same database. Default "ledger_events". */
  readonly notifyChannel?: string;
}

/** Largest page readAll returns; the port lets adapters return fewer than asked. */
export const MAX_READ_COUNT = 10_000;

const DEFAULT_POLL_INTERVAL_MS = 500;
const DEFAULT_CHANNEL = 'ledger_events';
/**
 * While committed events wait behind an older open transaction, a subscriber looks again
 * this soon, doubling up to HIDDEN_RECHECK_MAX_MS (or the poll interval, if shorter).
 */
const HIDDEN_RECHECK_MIN_MS = 10;
const HIDDEN_RECHECK_MAX_MS = 250;

// Only rows of transactions older than every transaction still running are read: later
// commits can then only add rows after the reader's (transaction_id, global_position).
const VISIBLE = 'e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())';

const READ_ALL_SQL = `SELECT ${EVENT_COLUMNS} FROM events e
  WHERE ${VISIBLE} AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
  ORDER BY e.transaction_id, e.global_position
  LIMIT $3`;

const HEAD_SQL = `SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position FROM events e
  WHERE ${VISIBLE}
  ORDER BY e.transaction_id DESC, e.global_position DESC
  LIMIT 1`;

// READ_ALL_SQL plus, in the same snapshot, whether committed rows after the cursor are
// hidden by the xmin rule: true when the newest committed row is one of them. (Rows of
// transactions still running are invisible here; the backward index scan skips them.)
// Always at least one row; event columns are NULL when the page is empty.
const READ_PAGE_SQL = `SELECT coalesce(newest.transaction_id >= pg_snapshot_xmin(pg_current_snapshot()), false) AS hidden, page.*
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (
    SELECT e.transaction_id FROM events e
    WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
    ORDER BY e.transaction_id DESC, e.global_position DESC
    LIMIT 1
  ) newest ON true
  LEFT JOIN LATERAL (
    SELECT ${EVENT_COLUMNS}, e.transaction_id AS sort_transaction, e.global_position AS sort_position FROM events e
    WHERE ${VISIBLE} AND (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
    ORDER BY e.transaction_id, e.global_position
    LIMIT $3
  ) page ON true
  ORDER BY page.sort_transaction, page.sort_position`;

// One statement, so the stream's revision (its last event's) and its events come from the
// same snapshot.
const READ_STREAM_SQL = `SELECT s.head::text AS stream_head, page.* FROM (
    SELECT max(h.stream_revision) AS head FROM events h WHERE h.stream_id = $1
  ) s
  LEFT JOIN LATERAL (
    SELECT ${EVENT_COLUMNS}, e.stream_revision AS sort_key FROM events e
    WHERE e.stream_id = $1 AND e.stream_revision >= $2
    ORDER BY e.stream_revision
    LIMIT $3
  ) page ON true
  WHERE s.head IS NOT NULL
  ORDER BY page.sort_key`;

/** A subscription page, and the wake-up generation seen before it was read. */
interface PageRead {
  readonly seen: number;
  readonly events: RecordedEvent[];
  readonly hidden: boolean;
}

interface PositionRow {
  readonly transaction_id: string;
  readonly global_position: string;
}

/**
 * EventStore on PostgreSQL. The caller owns the pool; close() ends only what this instance
 * opened itself (its LISTEN connection) and stops its timers.
 */
export class PostgresEventStore implements EventStore {
  readonly #pool: pg.Pool;
  readonly #pollIntervalMs: number;
  readonly #wakeups = new WakeSignal();
  readonly #listener: PgNotificationListener;
  readonly #sender: NotificationSender;
  readonly #known = new KnownRevisions();
  readonly #readAhead = new ReadAhead((after, limit) => this.#readAll(after, limit));
  #closed = false;

  constructor(pool: pg.Pool, options: PostgresEventStoreOptions = {}) {
    this.#pool = pool;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isFinite(this.#pollIntervalMs) || this.#pollIntervalMs < HIDDEN_RECHECK_MIN_MS) {
      throw new RangeError(`pollIntervalMs must be a number >= ${HIDDEN_RECHECK_MIN_MS}`);
    }
    const channel = options.notifyChannel ?? DEFAULT_CHANNEL;
    if (channel === '' || channel.length > 63) throw new RangeError('notifyChannel must be 1 to 63 characters');
    // Our own notifications carry this id so that our listener can ignore them: local
    // subscribers were already woken directly.
    const instanceId = randomUUID();
    this.#listener = new PgNotificationListener({
      createClient: dedicatedClient(pool, `${pool.options.application_name ?? 'ledger'}:event-notifications`),
      channels: [channel],
      onNotification: (_channel, payload) => {
        if (payload !== instanceId) this.#wakeups.wake();
      },
      // What other instances announced while we were not listening is lost: look now.
      onReconnect: () => this.#wakeups.wake(),
    });
    this.#sender = new NotificationSender(pool, channel, instanceId);
  }

  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    this.#assertOpen();
    const expectedExists = typeof expected === 'bigint' && this.#known.has(streamId, expected);
    const row = await runAppend(this.#pool, appendParams(streamId, events, expected), expectedExists, options.recordOutcome);
    return this.#appendOutcome(row, streamId, expected);
  }

  async readStream(streamId: string, options: { fromRevision?: StreamRevision; maxCount?: number } = {}): Promise<ReadStreamResult> {
    this.#assertOpen();
    checkStreamId(streamId);
    const from = options.fromRevision ?? 0n;
    if (typeof from !== 'bigint' || from < 0n) throw new RangeError('fromRevision must be a non-negative bigint');
    const limit = options.maxCount === undefined ? null : checkCount(options.maxCount, 'maxCount', 0);
    const { rows } = await queryArrays(this.#pool, {
      name: 'ledger_read_stream',
      text: READ_STREAM_SQL,
      values: [streamId, from > INT8_MAX ? INT8_MAX.toString() : from.toString(), limit],
    });
    const first = rows[0];
    if (first === undefined) return { revision: undefined, events: [] };
    // Column 0 is the stream's head, the event follows.
    const head = int8(first[0]);
    this.#known.note(streamId, head);
    return { revision: streamRevision(head), events: eventsOf(rows, 1) };
  }

  async readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    this.#assertOpen();
    const limit = Math.min(checkCount(options.maxCount, 'maxCount', 0), MAX_READ_COUNT);
    if (limit === 0) return [];
    return this.#readAhead.page(options.after ?? START, limit);
  }

  async #readAll(after: Position, limit: number): Promise<readonly RecordedEvent[]> {
    const { rows } = await queryArrays(this.#pool, {
      name: 'ledger_read_all',
      text: READ_ALL_SQL,
      values: [...cursorParams(after), limit],
    });
    return eventsOf(rows, 0);
  }

  async *subscribeToAll(options: SubscribeOptions): AsyncGenerator<readonly RecordedEvent[], void, undefined> {
    this.#assertOpen();
    const batchSize = Math.min(checkCount(options.batchSize, 'batchSize', 1), MAX_READ_COUNT);
    const { signal } = options;
    if (signal.aborted) return;
    // Listen before the first read: whatever commits after that read announces itself.
    await this.#listener.start();
    let cursor: Position = options.after ?? START;
    const maxRecheckMs = Math.min(HIDDEN_RECHECK_MAX_MS, this.#pollIntervalMs);
    let recheckMs = HIDDEN_RECHECK_MIN_MS;
    let next: Promise<PageRead> | undefined;
    while (!signal.aborted && !this.#closed) {
      const { seen, events, hidden } = await (next ?? this.#startPage(cursor, batchSize));
      next = undefined;
      if (signal.aborted || this.#closed) return;
      const last = events.at(-1);
      if (last !== undefined) {
        cursor = last.position;
        recheckMs = HIDDEN_RECHECK_MIN_MS;
        // A full batch: read the next page while the consumer handles this one (catching
        // up). Its wake-up generation is taken before it reads, so an append committed
        // meanwhile is never waited past; a short page read then is simply looked at again.
        if (events.length === batchSize) next = this.#startPage(cursor, batchSize);
        yield events;
        continue;
      }
      if (hidden) {
        // Committed events wait behind an older open transaction, and its end announces
        // nothing (it need not be an append, nor in this database): look again soon.
        await this.#wakeups.wait(seen, recheckMs, signal);
        recheckMs = Math.min(recheckMs * 2, maxRecheckMs);
      } else {
        recheckMs = HIDDEN_RECHECK_MIN_MS;
        await this.#wakeups.wait(seen, this.#pollIntervalMs, signal);
      }
    }
  }

  /** Starts reading a subscription page; a failure surfaces when it is awaited, never as an unhandled rejection. */
  #startPage(after: Position, limit: number): Promise<PageRead> {
    const seen = this.#wakeups.generation;
    const read = this.#readPage(after, limit).then((page) => ({ seen, ...page }));
    read.catch(() => undefined);
    return read;
  }

  /** A readAll page, and whether committed events after `after` are still held back. */
  async #readPage(after: Position, limit: number): Promise<{ events: RecordedEvent[]; hidden: boolean }> {
    const { rows } = await queryArrays(this.#pool, {
      name: 'ledger_read_page',
      text: READ_PAGE_SQL,
      values: [...cursorParams(after), limit],
    });
    // Column 0 is the hidden flag, the event follows.
    return { events: eventsOf(rows, 1), hidden: rows[0]?.[0] === true };
  }

  async headPosition(): Promise<Position | undefined> {
    this.#assertOpen();
    const { rows } = await this.#pool.query<PositionRow>({ name: 'ledger_head_position', text: HEAD_SQL });
    const row = rows[0];
    return row === undefined ? undefined : position(int8(row.transaction_id), int8(row.global_position));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Ends every subscription that is waiting; one that is reading ends after its read.
    this.#wakeups.wake();
    this.#readAhead.clear();
    await Promise.all([this.#listener.close(), this.#sender.close()]);
  }

  #appendOutcome(row: AppendRow, streamId: string, expected: ExpectedRevision): AppendResult {
    const revision = row.revision === null ? undefined : streamRevision(int8(row.revision));
    // Written, replayed or reported as the actual head: that revision exists.
    if (revision !== undefined) this.#known.note(streamId, revision);
    if (row.status === 'wrong_expected_version') throw new WrongExpectedVersion(streamId, expected, revision);
    if (revision === undefined || row.transaction_id === null || row.global_position === null) {
      throw new Error(`ledger_append returned an incomplete ${row.status} result`);
    }
    if (row.status === 'ok') {
      this.#wakeups.wake();
      this.#sender.request();
    }
    return {
      nextExpectedRevision: revision,
      position: position(int8(row.transaction_id), int8(row.global_position)),
      replayed: row.status === 'replayed',
      ...(row.outcome_recorded === true ? { outcomeRecorded: true } : {}),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('PostgresEventStore is closed');
  }
}

function checkCount(n: number, what: string, min: 0 | 1): number {
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${n}`);
  return n;
}

/** ($1::xid8, $2::bigint) of the read queries. */
function cursorParams(after: Position): [commit: string, prepare: string] {
  // No global_position exceeds int8, so clamping a larger prepare part keeps the order.
  return [after.commit.toString(), (after.prepare > INT8_MAX ? INT8_MAX : after.prepare).toString()];
}
