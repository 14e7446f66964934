import type { LedgerEntry, LedgerPosting } from '../../application/ledger/ledger-entry.js';
import type { InvalidCursor } from '../../application/ports/payment-queries.js';
import type { LedgerAsOf, LedgerEntryPage, LedgerQueries, LedgerTotals, ListLedgerEntriesQuery } from '../../application/ports/ledger-queries.js';
import { formatPosition, parsePosition } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { CurrencyCode } from '../../domain/currency.js';
import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import { decodeOpaqueCursor, encodeOpaqueCursor } from '../opaque-cursor.js';
import { projectionSchema } from '../projection.js';
import { isoOf } from '../row-values.js';

// Queries run on an ordinary pool and name the live schema (a rebuild renames schemas in one transaction).
const SCHEMA = projectionSchema('ledger');
const ENTRIES = `${SCHEMA}.ledger_entries`;
const POSTINGS = `${SCHEMA}.ledger_postings`;

export const DEFAULT_ENTRY_PAGE_SIZE = 20;
export const MAX_ENTRY_PAGE_SIZE = 100;

/*
 * Totals and the checkpoint are read by one statement, so they come from one snapshot: the
 * checkpoint says exactly which events the totals include.
 */
const CHECKPOINT = `(SELECT checkpoint_commit::text || '.' || checkpoint_prepare::text FROM projection_checkpoints WHERE name = 'ledger')`;

interface TotalsRow {
  readonly currency: string;
  readonly debits: string;
  readonly credits: string;
  readonly checkpoint: string | null;
}

interface EntryRow {
  readonly event_id: string;
  readonly event_type: string;
  readonly position: string;
  readonly occurred_at: Date | string;
  readonly description: string;
  readonly payment_id: string | null;
  readonly refund_id: string | null;
  readonly customer_id: string | null;
}

interface PostingRow {
  readonly entry_id: string;
  readonly account: string;
  readonly currency: string;
  readonly side: 'debit' | 'credit';
  readonly amount: string;
}

/** Sums arrive as numeric text; a sum no JSON number can hold exactly would be a bug to hide. */
function minorUnits(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`ledger total ${text} is beyond exact JSON numbers`);
  return n;
}


/** Binds parameters in order, for queries whose predicates depend on the filters given. */
class Params {
  readonly values: unknown[] = [];
  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function asOfPredicate(asOf: LedgerAsOf | undefined, params: Params, alias: string): string | undefined {
  if (!asOf) return undefined;
  if (asOf.kind === 'time') return `${alias}.occurred_at <= ${params.bind(asOf.at.toISOString())}::timestamptz`;
  const c = params.bind(asOf.position.commit.toString());
  const p = params.bind(asOf.position.prepare.toString());
  return `(${alias}.position_commit, ${alias}.position_prepare) <= (${c}::numeric, ${p}::numeric)`;
}

function totalsOf(rows: readonly TotalsRow[], checkpoint: string | null): LedgerTotals {
  return {
    checkpoint,
    data: rows.filter((r) => r.currency !== null).map((r) => ({ currency: r.currency, debits: minorUnits(r.debits), credits: minorUnits(r.credits) })),
  };
}

const checkpointOf = (rows: readonly TotalsRow[]): string | null => {
  const text = rows[0]?.checkpoint ?? null;
  return text === null || text === '0.0' ? null : text;
};

/** Reads the ledger read model (rm_ledger). */
export class SqlLedgerQueries implements LedgerQueries {
  constructor(private readonly sql: SqlExecutor) {}

  async accountTotals(account: string, currency: string | undefined, asOf: LedgerAsOf | undefined): Promise<LedgerTotals> {
    const params = new Params();
    // (account, currency, position) and (account, currency, occurred_at) serve this as index-only scans.
    const where = [`p.account = ${params.bind(account)}`];
    if (currency !== undefined) where.push(`p.currency = ${params.bind(currency)}`);
    const at = asOfPredicate(asOf, params, 'p');
    if (at) where.push(at);
    return this.totals(
      `SELECT t.currency, t.debits, t.credits, ${CHECKPOINT} AS checkpoint
         FROM (SELECT p.currency,
                      coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0)::text AS debits,
                      coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0)::text AS credits
                 FROM ${POSTINGS} p WHERE ${where.join(' AND ')} GROUP BY p.currency) t
         RIGHT JOIN (SELECT 1) one ON true
        ORDER BY t.currency`,
      params,
    );
  }

  async trialBalance(asOf: LedgerAsOf | undefined): Promise<LedgerTotals> {
    const params = new Params();
    const at = asOfPredicate(asOf, params, 'p');
    return this.totals(
      `SELECT t.currency, t.debits, t.credits, ${CHECKPOINT} AS checkpoint
         FROM (SELECT p.currency,
                      coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0)::text AS debits,
                      coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0)::text AS credits
                 FROM ${POSTINGS} p${at ? ` WHERE ${at}` : ''} GROUP BY p.currency) t
         RIGHT JOIN (SELECT 1) one ON true
        ORDER BY t.currency`,
      params,
    );
  }

  private async totals(text: string, params: Params): Promise<LedgerTotals> {
    const rows = (await this.sql.query<TotalsRow>(text, params.values)).rows;
    return totalsOf(rows, checkpointOf(rows));
  }

  async entries(query: ListLedgerEntriesQuery): Promise<Result<LedgerEntryPage, InvalidCursor>> {
    let before: string | undefined;
    if (query.cursor !== undefined) {
      before = decodeLedgerCursor(query.cursor);
      if (before === undefined) return err({ code: 'invalid_cursor', message: 'the cursor is not one this service issued' });
    }
    const limit = pageSize(query.limit);
    const params = new Params();
    // Newest first by log position: the unique (position) index, or (payment_id, position)
    // with paymentId; the account filter probes each candidate's postings by primary key.
    const where: string[] = [];
    if (query.paymentId !== undefined) where.push(`e.payment_id = ${params.bind(query.paymentId)}`);
    if (query.from !== undefined) where.push(`e.occurred_at >= ${params.bind(query.from.toISOString())}::timestamptz`);
    if (query.to !== undefined) where.push(`e.occurred_at < ${params.bind(query.to.toISOString())}::timestamptz`);
    if (query.account !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM ${POSTINGS} p WHERE p.entry_id = e.event_id AND p.account = ${params.bind(query.account)})`);
    }
    if (before !== undefined) {
      const [commit, prepare] = before.split('.');
      where.push(`(e.position_commit, e.position_prepare) < (${params.bind(commit)}::numeric, ${params.bind(prepare)}::numeric)`);
    }
    const text = `SELECT e.event_id::text AS event_id, e.event_type, e.position_commit::text || '.' || e.position_prepare::text AS position,
                         e.occurred_at, e.description, e.payment_id, e.refund_id, e.customer_id
                    FROM ${ENTRIES} e${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
                   ORDER BY e.position_commit DESC, e.position_prepare DESC LIMIT ${params.bind(limit + 1)}`;
    const rows = (await this.sql.query<EntryRow>(text, params.values)).rows;
    const page = rows.slice(0, limit);
    const postings = await this.postingsOf(page.map((r) => r.event_id));
    const last = page[page.length - 1];
    return ok({
      data: page.map((row) => entryFromRow(row, postings.get(row.event_id) ?? [])),
      nextCursor: rows.length > limit && last ? encodeLedgerCursor(last.position) : null,
    });
  }

  private async postingsOf(ids: readonly string[]): Promise<Map<string, LedgerPosting[]>> {
    const byEntry = new Map<string, LedgerPosting[]>();
    if (ids.length === 0) return byEntry;
    const result = await this.sql.query<PostingRow>(
      `SELECT entry_id::text AS entry_id, account, currency, side, amount::text AS amount
         FROM ${POSTINGS} WHERE entry_id = ANY($1::uuid[]) ORDER BY entry_id, line`,
      [ids],
    );
    for (const row of result.rows) {
      const list = byEntry.get(row.entry_id) ?? [];
      list.push({ account: row.account, side: row.side, amount: minorUnits(row.amount), currency: row.currency as CurrencyCode });
      byEntry.set(row.entry_id, list);
    }
    return byEntry;
  }
}

export function entryFromRow(row: EntryRow, postings: readonly LedgerPosting[]): LedgerEntry {
  return {
    id: row.event_id,
    object: 'ledger_entry',
    eventId: row.event_id,
    eventType: row.event_type,
    position: row.position,
    occurredAt: isoOf(row.occurred_at),
    description: row.description,
    paymentId: row.payment_id,
    refundId: row.refund_id,
    customerId: row.customer_id,
    postings,
  };
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_ENTRY_PAGE_SIZE;
  return Math.min(MAX_ENTRY_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/* The cursor is the position of the page's last entry, wrapped so clients treat it as opaque. */

export const encodeLedgerCursor = (position: string): string => encodeOpaqueCursor({ v: 1, ledgerBefore: position });

/** The position to continue before, or undefined for anything we did not issue. */
export function decodeLedgerCursor(cursor: string): string | undefined {
  const body = decodeOpaqueCursor(cursor);
  if (!body || body.v !== 1 || typeof body.ledgerBefore !== 'string') return undefined;
  const position = parsePosition(body.ledgerBefore);
  return position ? formatPosition(position) : undefined;
}
