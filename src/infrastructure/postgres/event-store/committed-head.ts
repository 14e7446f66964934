import type pg from 'pg';
import { position, type Position } from '../../../application/ports/position.js';
import { int8 } from './event-rows.js';

/*
 * The position of the newest *committed* event, whether or not readers may see it yet.
 * EventStore.headPosition is the newest *readable* one: below the xmin horizon, which any
 * open transaction in the cluster holds back, so a write that committed a moment ago can be
 * past it. A caller that must know "every write committed before I asked" (a read model
 * miss that is to become an answer) waits for this one instead; the reader reaches it once
 * the horizon moves, so the wait ends. PostgreSQL only: EventStoreDB has no such horizon.
 */
const COMMITTED_HEAD_SQL = `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM events
  ORDER BY transaction_id DESC, global_position DESC
  LIMIT 1`;

export async function committedHeadPosition(pool: pg.Pool): Promise<Position | undefined> {
  const { rows } = await pool.query<{ transaction_id: string; global_position: string }>({ name: 'ledger_committed_head', text: COMMITTED_HEAD_SQL });
  const row = rows[0];
  return row === undefined ? undefined : position(int8(row.transaction_id), int8(row.global_position));
}
