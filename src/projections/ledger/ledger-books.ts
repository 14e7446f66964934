import type { PositionParts } from '../../application/ports/position.js';
import { comparePositions } from '../../application/ports/position.js';
import type { CurrencyCode } from '../../domain/currency.js';

/*
 * What the posting rules must remember between events (docs/architecture.md, "Projections"):
 * per invoice, what is still receivable, still deferred, written off, and owed back by a
 * prorated cancel; per invoice
 * payment, which invoice it pays and how much of it no invoice absorbed. Rows of
 * `ledger_invoices` and `ledger_invoice_payments` (ledger-books-sql.ts); in memory the rules
 * read and change them here, and the batch writes back what changed.
 *
 * Each row remembers the position of the last event applied to it, and the rules skip a
 * row for any event at or before it: applying an event again (a test, a retried `apply`)
 * changes nothing, as the event-id key already makes its entry post once.
 */

export interface InvoiceBook {
  readonly invoiceId: string;
  readonly subscriptionId: string;
  readonly customerId: string;
  readonly currency: CurrencyCode;
  /** ISO 8601: the end of the period the invoice charges for (a proration invoice: its change time). */
  readonly periodEnd: string;
  /** Position of its InvoiceIssued: the order credits and recognition walk invoices in. */
  readonly issued: PositionParts;
  /** Accounts receivable still open on it. */
  readonly receivable: number;
  /** Its charges not yet recognised as revenue, less the proration credits taken out of them. */
  readonly deferred: number;
  /** Receivable written off as uncollectible and not yet recovered by a late payment. */
  readonly writtenOff: number;
  /**
   * customer_credit a prorated cancel left for this invoice (the invoice of the canceled
   * period) and no refund of its payment has drawn down yet: what the customer is still owed.
   */
  readonly cancelCredit: number;
  readonly applied: PositionParts;
}

export interface InvoicePaymentBook {
  readonly paymentId: string;
  readonly invoiceId: string;
  /** Captured beyond what the invoice still owed (paid after it was voided or paid): held in customer_credit until refunded. */
  readonly unapplied: number;
  readonly applied: PositionParts;
}

/** Whether a row has not yet seen the event at `position`. */
export const notYetApplied = (row: { readonly applied: PositionParts }, position: PositionParts): boolean => comparePositions(row.applied, position) < 0;

const byIssue = (a: InvoiceBook, b: InvoiceBook): number => comparePositions(a.issued, b.issued) || (a.invoiceId < b.invoiceId ? -1 : a.invoiceId > b.invoiceId ? 1 : 0);

export class LedgerBooks {
  private readonly invoices = new Map<string, InvoiceBook>();
  private readonly bySubscription = new Map<string, Set<string>>();
  private readonly payments = new Map<string, InvoicePaymentBook>();
  private readonly changedInvoices = new Set<string>();
  private readonly changedPayments = new Set<string>();

  /** Rows as stored: known, not changed. */
  load(invoices: readonly InvoiceBook[], payments: readonly InvoicePaymentBook[]): void {
    for (const i of invoices) this.index(i);
    for (const p of payments) this.payments.set(p.paymentId, p);
  }

  invoice(invoiceId: string): InvoiceBook | undefined {
    return this.invoices.get(invoiceId);
  }

  /** The subscription's invoices this book knows, oldest issue first. */
  invoicesOf(subscriptionId: string): InvoiceBook[] {
    const ids = this.bySubscription.get(subscriptionId);
    if (!ids) return [];
    return [...ids].map((id) => this.invoices.get(id) as InvoiceBook).sort(byIssue);
  }

  paymentOf(paymentId: string): InvoicePaymentBook | undefined {
    return this.payments.get(paymentId);
  }

  putInvoice(book: InvoiceBook): void {
    this.index(book);
    this.changedInvoices.add(book.invoiceId);
  }

  putPayment(book: InvoicePaymentBook): void {
    this.payments.set(book.paymentId, book);
    this.changedPayments.add(book.paymentId);
  }

  /** What changed since load, to write back. */
  changes(): { readonly invoices: InvoiceBook[]; readonly payments: InvoicePaymentBook[] } {
    return {
      invoices: [...this.changedInvoices].map((id) => this.invoices.get(id) as InvoiceBook),
      payments: [...this.changedPayments].map((id) => this.payments.get(id) as InvoicePaymentBook),
    };
  }

  private index(book: InvoiceBook): void {
    this.invoices.set(book.invoiceId, book);
    let ids = this.bySubscription.get(book.subscriptionId);
    if (!ids) this.bySubscription.set(book.subscriptionId, (ids = new Set()));
    ids.add(book.invoiceId);
  }
}
