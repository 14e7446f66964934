import type { PositionParts } from '../../application/ports/position.js';
import { position } from '../../application/ports/position.js';
import type { SqlExecutor } from '../../application/ports/sql.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { isoOf } from '../row-values.js';
import type { InvoiceBook, InvoicePaymentBook } from './ledger-books.js';
import { LedgerBooks } from './ledger-books.js';
import type { BooksNeeded } from './posting-rules.js';

/*
 * The books a batch reads and writes (ledger-books.ts), set-based: one statement loads every
 * row the batch's events may need, one writes back every row they changed. Unqualified
 * names: the runner's search_path points at the live schema or a rebuild's.
 */

// The payments' links first, then every invoice named, linked, or of a named subscription and still deferring:
// three key lookups (an OR of them would read the whole table).
const LOAD = `
WITH links AS (
  SELECT payment_id, invoice_id, unapplied, applied_commit, applied_prepare
    FROM ledger_invoice_payments WHERE payment_id = ANY($3::text[])
), invoices AS (
  SELECT * FROM ledger_invoices WHERE invoice_id = ANY($1::text[])
  UNION
  SELECT i.* FROM ledger_invoices i JOIN links l ON l.invoice_id = i.invoice_id
  UNION
  SELECT * FROM ledger_invoices WHERE subscription_id = ANY($2::text[]) AND deferred > 0
  UNION
  SELECT * FROM ledger_invoices WHERE subscription_id = ANY($4::text[])
)
SELECT 'invoice' AS kind, jsonb_build_object(
         'invoiceId', invoice_id, 'subscriptionId', subscription_id, 'customerId', customer_id, 'currency', currency,
         'periodEnd', period_end, 'receivable', receivable, 'deferred', deferred, 'writtenOff', written_off, 'cancelCredit', cancel_credit,
         'issued', issued_commit::text || '.' || issued_prepare::text,
         'applied', applied_commit::text || '.' || applied_prepare::text) AS row
  FROM invoices
UNION ALL
SELECT 'payment', jsonb_build_object('paymentId', payment_id, 'invoiceId', invoice_id, 'unapplied', unapplied,
         'applied', applied_commit::text || '.' || applied_prepare::text)
  FROM links`;

const SAVE_INVOICES = `
INSERT INTO ledger_invoices (invoice_id, subscription_id, customer_id, currency, period_end, issued_commit, issued_prepare,
                             receivable, deferred, written_off, cancel_credit, applied_commit, applied_prepare)
SELECT r."invoiceId", r."subscriptionId", r."customerId", r.currency, r."periodEnd",
       split_part(r.issued, '.', 1)::numeric, split_part(r.issued, '.', 2)::numeric,
       r.receivable, r.deferred, r."writtenOff", r."cancelCredit",
       split_part(r.applied, '.', 1)::numeric, split_part(r.applied, '.', 2)::numeric
  FROM jsonb_to_recordset($1::jsonb) AS r("invoiceId" text, "subscriptionId" text, "customerId" text, currency text, "periodEnd" timestamptz,
       issued text, receivable bigint, deferred bigint, "writtenOff" bigint, "cancelCredit" bigint, applied text)
ON CONFLICT (invoice_id) DO UPDATE SET receivable = EXCLUDED.receivable, deferred = EXCLUDED.deferred, written_off = EXCLUDED.written_off,
       cancel_credit = EXCLUDED.cancel_credit,
       applied_commit = EXCLUDED.applied_commit, applied_prepare = EXCLUDED.applied_prepare`;

const SAVE_PAYMENTS = `
INSERT INTO ledger_invoice_payments (payment_id, invoice_id, unapplied, applied_commit, applied_prepare)
SELECT r."paymentId", r."invoiceId", r.unapplied, split_part(r.applied, '.', 1)::numeric, split_part(r.applied, '.', 2)::numeric
  FROM jsonb_to_recordset($1::jsonb) AS r("paymentId" text, "invoiceId" text, unapplied bigint, applied text)
ON CONFLICT (payment_id) DO UPDATE SET unapplied = EXCLUDED.unapplied, applied_commit = EXCLUDED.applied_commit, applied_prepare = EXCLUDED.applied_prepare`;

type Row = { kind: 'invoice'; row: Record<string, unknown> } | { kind: 'payment'; row: Record<string, unknown> };

const positionOf = (text: unknown): PositionParts => {
  const [commit, prepare] = String(text).split('.');
  return position(BigInt(commit ?? '0'), BigInt(prepare ?? '0'));
};
const count = (value: unknown): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`ledger books: ${String(value)} is not an exact count of minor units`);
  return n;
};
const text = (p: PositionParts): string => `${p.commit}.${p.prepare}`;

/** The books holding what `needed` names; nothing at all is read when it names nothing. */
export async function loadBooks(sql: SqlExecutor, needed: BooksNeeded): Promise<LedgerBooks> {
  const books = new LedgerBooks();
  if (needed.invoiceIds.size + needed.subscriptionIds.size + needed.paymentIds.size === 0) return books;
  const result = await sql.query<Row>(LOAD, [[...needed.invoiceIds], [...needed.subscriptionIds], [...needed.paymentIds], [...needed.canceledSubscriptionIds]]);
  const invoices: InvoiceBook[] = [];
  const payments: InvoicePaymentBook[] = [];
  for (const { kind, row: r } of result.rows) {
    if (kind === 'invoice') {
      invoices.push({
        invoiceId: String(r.invoiceId),
        subscriptionId: String(r.subscriptionId),
        customerId: String(r.customerId),
        currency: String(r.currency) as CurrencyCode,
        periodEnd: isoOf(String(r.periodEnd)),
        issued: positionOf(r.issued),
        receivable: count(r.receivable),
        deferred: count(r.deferred),
        writtenOff: count(r.writtenOff),
        cancelCredit: count(r.cancelCredit),
        applied: positionOf(r.applied),
      });
    } else {
      payments.push({ paymentId: String(r.paymentId), invoiceId: String(r.invoiceId), unapplied: count(r.unapplied), applied: positionOf(r.applied) });
    }
  }
  books.load(invoices, payments);
  return books;
}

/** Writes back the rows the batch changed. */
export async function saveBooks(sql: SqlExecutor, books: LedgerBooks): Promise<void> {
  const { invoices, payments } = books.changes();
  if (invoices.length > 0) {
    await sql.query(SAVE_INVOICES, [JSON.stringify(invoices.map((i) => ({ ...i, issued: text(i.issued), applied: text(i.applied) })))]);
  }
  if (payments.length > 0) {
    await sql.query(SAVE_PAYMENTS, [JSON.stringify(payments.map((p) => ({ ...p, applied: text(p.applied) })))]);
  }
}
