import type pg from 'pg';
import { streamRevision, type EventMetadata, type RecordedEvent } from '../../../application/ports/event-store.js';
import { position } from '../../../application/ports/position.js';

/*
 * Event rows leave PostgreSQL as arrays (pg's rowMode 'array': no object per row keyed by
 * column name) in this column order, decoded by toRecordedEvent. Positions and revisions
 * leave as text (int8/xid8 exceed Number). recorded_at leaves as whole epoch milliseconds,
 * which is all a Date holds: cheaper for the server to print and for us to read than a
 * timestamp string. Every clause names the table's columns through the alias e.
 */
export const EVENT_COLUMNS = `e.global_position::text, e.transaction_id::text, e.stream_id, e.stream_revision::text,
  e.event_id::text, e.event_type, e.data, e.metadata, floor(extract(epoch FROM e.recorded_at) * 1000)::int8::text`;

/** How many columns EVENT_COLUMNS has. */
export const EVENT_COLUMN_COUNT = 9;

export type ArrayRow = readonly unknown[];

/** The event in `row` from column `at` on (NULL there: no event, from an outer join). */
export function toRecordedEvent(row: ArrayRow, at: number): RecordedEvent {
  return {
    id: row[at + 4] as string,
    type: row[at + 5] as string,
    streamId: row[at + 2] as string,
    revision: streamRevision(int8(row[at + 3])),
    position: position(int8(row[at + 1]), int8(row[at])),
    data: row[at + 6],
    metadata: row[at + 7] as EventMetadata,
    recordedAt: new Date(Number(row[at + 8])),
  };
}

/** Events of rows whose event columns start at `at`, skipping all-NULL (outer-joined) ones. */
export function eventsOf(rows: readonly ArrayRow[], at: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const row of rows) if (row[at] !== null) events.push(toRecordedEvent(row, at));
  return events;
}

/** int8 and xid8 arrive as decimal text; going through Number would lose precision past 2^53. */
export function int8(value: unknown): bigint {
  if (typeof value !== 'string') throw new Error(`expected an integer as text from PostgreSQL, got ${typeof value}`);
  // BigInt refuses anything but an integer literal; PostgreSQL prints nothing else here.
  return BigInt(value);
}

/** Runs a query whose rows come back as arrays. */
export async function queryArrays(pool: pg.Pool, config: Omit<pg.QueryArrayConfig, 'rowMode'>): Promise<{ rows: ArrayRow[] }> {
  return pool.query<unknown[]>({ ...config, rowMode: 'array' });
}
