import type { RecordedEvent } from '../../application/ports/event-store.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { PositionedProjectionChange, Projection } from '../projection.js';
import { withQueryIndexes } from '../projection.js';
import { LEDGER_INDEX_SQL, LEDGER_TABLES_SQL, POSTINGS_IN_STATEMENT } from './ledger-schema.js';
import type { LedgerEntry } from '../../application/ledger/ledger-entry.js';
import { LEDGER_EVENT_TYPES, booksNeeded, postingsFor } from './posting-rules.js';
import { LedgerBooks } from './ledger-books.js';
import { loadBooks, saveBooks } from './ledger-books-sql.js';

/** Realtime: every new entry goes to this topic (scope ledger:read), as GET /v1/ledger/entries shows it. */
export const LEDGER_TOPIC = 'ledger';
export const LEDGER_ENTRY_CHANGE = 'ledger.entry';

/*
 * Set-based per batch (docs/architecture.md, "Recipes": a new projection): one statement
 * loads the books the batch's events need (per invoice and invoice payment; ledger-books.ts),
 * the batch's entries are computed in memory by the pure posting rules, then the changed
 * books are written back and one statement inserts the entries and their postings. The database checks the balance
 * (statement triggers on postings and entries; see ledger-schema.ts) in the batch's
 * own transaction, so an unbalanced rule would fail the batch and stop the projection
 * visibly rather than commit half a ledger.
 *
 * Exactly once: the event id is the entry's key, entries that already exist are skipped
 * with their postings; only entries this batch actually inserted are announced.
 */

// One statement: entries, then the postings of those it inserted, their position and time
// taken from the batch's own entries (no join with the growing tables). Postings of an entry
// inserted just now cannot exist yet (no posting without its entry), so they need no
// ON CONFLICT; one that did would fail the batch. The statement triggers fire at the end of
// the whole statement, when both are in place.
const INSERT_ENTRIES_AND_POSTINGS = `
WITH e AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, "eventType" text, position text, "occurredAt" timestamptz,
         description text, "paymentId" text, "refundId" text, "customerId" text)
), fresh AS (
  INSERT INTO ledger_entries (event_id, event_type, position_commit, position_prepare, occurred_at, description,
                              payment_id, refund_id, customer_id)
  SELECT e.id, e."eventType", split_part(e.position, '.', 1)::numeric, split_part(e.position, '.', 2)::numeric,
         e."occurredAt", e.description, e."paymentId", e."refundId", e."customerId"
    FROM e
  ON CONFLICT (event_id) DO NOTHING
  RETURNING event_id
), posted AS (
  INSERT INTO ledger_postings (entry_id, line, account, currency, side, amount, position_commit, position_prepare, occurred_at)
  SELECT p.entry, p.line, p.account, p.currency, p.side, p.amount,
         split_part(e.position, '.', 1)::numeric, split_part(e.position, '.', 2)::numeric, e."occurredAt"
    FROM jsonb_to_recordset($2::jsonb) AS p(entry uuid, line smallint, account text, currency text, side text, amount bigint)
    JOIN e ON e.id = p.entry
   WHERE p.entry IN (SELECT event_id FROM fresh)
)
SELECT event_id::text AS id FROM fresh`;

/** The pure half of a batch: the entries its events post, in log order, `books` changed as they go. */
export function entriesOf(events: readonly RecordedEvent[], books: LedgerBooks = new LedgerBooks()): { entry: LedgerEntry; event: RecordedEvent }[] {
  const out: { entry: LedgerEntry; event: RecordedEvent }[] = [];
  for (const event of events) {
    const entry = postingsFor(event, books);
    if (entry) out.push({ entry, event });
  }
  return out;
}

async function applyBatch(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<PositionedProjectionChange[]> {
  const books = await loadBooks(sql, booksNeeded(events));
  const posted = entriesOf(events, books);
  await saveBooks(sql, books);
  if (posted.length === 0) return [];
  const entries = posted.map(({ entry }) => {
    const { postings: _postings, object: _object, ...row } = entry;
    return row;
  });
  const postings = posted.flatMap(({ entry }) => entry.postings.map((p, line) => ({ entry: entry.id, line, ...p })));
  // Checked at the end of the statement, all at once (ledger-schema.ts), not per entry at COMMIT.
  await sql.query(`SELECT set_config('${POSTINGS_IN_STATEMENT}', 'on', true)`);
  const inserted = await sql.query<{ id: string }>(INSERT_ENTRIES_AND_POSTINGS, [JSON.stringify(entries), JSON.stringify(postings)]);
  const fresh = new Set(inserted.rows.map((r) => r.id));
  const isFresh = (entry: LedgerEntry): boolean => fresh.has(entry.id.toLowerCase());
  return posted
    .filter(({ entry }) => isFresh(entry))
    .map(({ entry, event }) => ({ topics: [LEDGER_TOPIC], type: LEDGER_ENTRY_CHANGE, data: entry, position: event.position }));
}

/**
 * The double-entry ledger (schema rm_ledger): one balanced journal entry per money-moving event.
 * Version 2: invoices, revenue recognition and invoice payments (a new account in the CHECK,
 * the books' tables), so version-1 rows are rebuilt. Version 3: a prorated cancel's credit
 * is held per invoice (ledger_invoices.cancel_credit) and its payment's refund draws it
 * down, so earlier versions' books and entries are rebuilt. Version 4: disputes post
 * (disputed_funds, chargebacks, dispute_fees), so earlier versions' entries are rebuilt.
 * Version 5: a cancel's credit is held for the canceled period's invoice even when that
 * invoice no longer defers anything (a price change at the period's first instant took it
 * all as credit); version 4 held it on the price change's invoice, whose payment billing does
 * not refund, so earlier versions' books and entries are rebuilt.
 */
export const ledgerProjection: Projection = {
  name: 'ledger',
  version: 5,
  eventTypes: LEDGER_EVENT_TYPES,
  ...withQueryIndexes(LEDGER_TABLES_SQL, LEDGER_INDEX_SQL),
  applyBatch,
  async apply(sql, event) {
    return (await applyBatch(sql, [event])).map(({ topics, type, data }) => ({ topics, type, data }));
  },
};
