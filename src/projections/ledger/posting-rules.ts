import type { RecordedEvent } from '../../application/ports/event-store.js';
import { formatPosition } from '../../application/ports/position.js';
import { toDomainEvent } from '../../application/payments/payment-stream.js';
import { toRefundEvent } from '../../application/refunds/refund-stream.js';
import { toDisputeEvent } from '../../application/disputes/dispute-stream.js';
import type { DisputeEvent, DisputeStatus } from '../../domain/dispute/index.js';
import { DISPUTE_EVENT_TYPES, disputeHoldsFunds, isDisputeEventType } from '../../domain/dispute/index.js';
import type { InvoiceEvent, InvoiceLine } from '../../domain/invoice/index.js';
import { isInvoiceEventType, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import type { PaymentEvent } from '../../domain/payment/index.js';
import type { RefundEvent } from '../../domain/refund/index.js';
import type { SubscriptionEvent } from '../../domain/subscription/index.js';
import { isSubscriptionEventType, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { MAX_AMOUNT_MINOR } from '../../domain/money.js';
import { describeError } from '../logger.js';
import { ProjectionEventError } from '../projection.js';
import { ACCOUNTS } from '../../domain/ledger/chart.js';
import type { LedgerEntry, LedgerPosting } from '../../application/ledger/ledger-entry.js';
import type { InvoiceBook } from './ledger-books.js';
import { LedgerBooks, notYetApplied } from './ledger-books.js';

/*
 * The posting rules: which events move money, and the one journal entry each becomes
 * (docs/architecture.md, "Projections"; the README's "Ledger" section lists them). Pure
 * over `LedgerBooks` (what earlier events left per invoice and invoice payment), so the
 * projection, the property tests and a reader of this file all see the same rules.
 *
 * Payments and refunds:
 *
 *   PaymentCaptured        Dr provider_clearing      Cr revenue             captured amount (a payment that pays no invoice)
 *   PaymentRefundReserved  Dr refund_reservations    Cr refunds_pending     reserved amount
 *   PaymentRefundReleased  Dr refunds_pending        Cr refund_reservations reservation given back (refund failed or canceled)
 *   PaymentRefundSettled   Dr refunds_pending        Cr refund_reservations reservation used up (refund succeeded)
 *   RefundSucceeded        Dr refunds                Cr provider_clearing   refunded amount
 *
 * Pending money is modelled like a pending transfer: a reservation moves the amount into a
 * pending pair (a liability and its contra-revenue twin) and its resolution moves it back
 * out, so the pending pair nets to zero once every refund is resolved; only a succeeded
 * refund touches `refunds` and `provider_clearing`. The real refund is posted from the
 * refund's own RefundSucceeded (the processor's answer), the pending pair is cleared by the
 * payment stream's settlement: each event posts exactly one entry, and the order in which a
 * process manager appends the two does not matter.
 *
 * Invoices and subscriptions (revenue is recognised over the period, not when paid):
 *
 *   InvoiceIssued          Dr accounts_receivable (the total)           Cr deferred_revenue (the charges: subscription
 *                          Dr deferred_revenue (proration credits,          and proration_charge lines)
 *                             taken back from the subscription's       Cr customer_credit (credits beyond the charges:
 *                             invoices still deferring, newest first)      the total stops at zero, the rest is owed)
 *                          Dr revenue (credits beyond what is still deferred: time already recognised)
 *   InvoicePaymentAttempted  nothing; remembers that its payment pays this invoice
 *   PaymentCaptured        Dr provider_clearing      Cr accounts_receivable (what the invoice still owes)
 *     (pays an invoice)                             Cr bad_debt (recovering what was written off)
 *                                                   Cr customer_credit (the rest: paid twice or after a void; owed back)
 *   RefundSucceeded        Dr customer_credit (up to what that payment left there,  Cr provider_clearing
 *     (of an invoice          then up to the prorated-cancel credit its invoice holds)
 *     payment)             Dr refunds (the rest)
 *   InvoiceVoided          Dr deferred_revenue (up to what it still defers), Dr revenue (the rest)   Cr accounts_receivable (what it still owes)
 *   InvoiceMarkedUncollectible  Dr bad_debt      Cr accounts_receivable     what it still owes
 *   SubscriptionPeriodStarted   Dr deferred_revenue  Cr revenue   what the invoices whose period ended by the new start still defer
 *   SubscriptionResumed,        Dr deferred_revenue  Cr revenue   what every earlier invoice still defers (the old cycle is over);
 *   SubscriptionPriceChanged                                      a price change keeps back its proration credit, which the
 *     (cycle restarted)                                           invoice issued right after it takes back
 *   SubscriptionCanceled   Dr deferred_revenue  Cr revenue        what every invoice still defers (the obligation ends:
 *                                                                 at period end it was served, an immediate cancel forfeits it)
 *                                              Cr customer_credit a prorated cancel's credit instead of revenue; held
 *                                                                 for the invoice of the canceled period, whose payment's
 *                                                                 refund draws it down
 *
 * The projection has no clock, so recognition follows the subscription's own events: an
 * invoice's deferred revenue becomes revenue when the subscription leaves the period it
 * paid for (the next period starts, the cycle restarts, it ends). Postings on one account
 * within an entry are netted. Excess credit is a liability, not a gift. A prorated cancel's
 * credit is paid out by the billing process as a refund of the canceled period's invoice
 * payment: revenue already left the credit out (only the served part was recognised), so
 * that refund settles the liability (Dr customer_credit) instead of reducing revenue again
 * through `refunds`; only what it refunds beyond the credit is a refund. The credit is kept
 * per invoice (the newest the subscription was still deferring, in the credit's currency,
 * whose period ends after the cancel: the canceled period's; else the newest), so only a
 * refund of that invoice's payment draws it down. A refund that fails posts nothing and the
 * credit stays owed. Credit an invoice's own lines leave beyond its charges is not
 * attributed and stays in customer_credit until a later feature applies it. An uncollectible invoice's revenue is still recognised
 * (accrual: the service was delivered) and its receivable becomes a bad-debt expense; a
 * late payment recovers it. InvoicePaid posts nothing (its payment's capture does; a zero
 * total has no payment), nor does SubscriptionIncompleteExpired (its first invoice is
 * voided next, and the void reverses it).
 *
 * Disputes (chargebacks; every dispute event repeats its status and fee before and after, so
 * a rule needs no books). One entry per event, the difference between what the dispute held
 * back before and after it, netted:
 *
 *   DisputeOpened / DisputeUpdated / DisputeClosed
 *                          Dr disputed_funds      Cr provider_clearing   the amount, when the dispute starts holding it
 *                                                                        (opened or escalated to needs_response/under_review;
 *                                                                        an inquiry, warning_*, holds nothing)
 *                          Dr provider_clearing   Cr disputed_funds      the amount, when a held dispute is won (reinstated)
 *                          Dr chargebacks         Cr disputed_funds      the amount, when a held dispute is lost
 *                          Dr chargebacks         Cr provider_clearing   the amount, when a dispute is lost that never held it
 *                          Dr dispute_fees        Cr provider_clearing   a fee charged (the increase of the fee)
 *                          Dr provider_clearing   Cr dispute_fees        a fee given back (the decrease)
 *
 * So `disputed_funds` holds exactly the amounts of the disputes still open, and however the
 * processor's updates arrive, a dispute's entries sum to what its final status says.
 *
 * Every other event (authorizations, failures, cancellations, refund requests, failures
 * and cancellations, payment attempts' failures) moves no money in our books and posts nothing.
 */

/** The event types that can post an entry or change the books: the projection's `eventTypes`. */
export const LEDGER_EVENT_TYPES: readonly string[] = [
  'PaymentCaptured',
  'PaymentRefundReserved',
  'PaymentRefundReleased',
  'PaymentRefundSettled',
  'RefundSucceeded',
  'InvoiceIssued',
  'InvoicePaymentAttempted',
  'InvoiceVoided',
  'InvoiceMarkedUncollectible',
  'SubscriptionPeriodStarted',
  'SubscriptionResumed',
  'SubscriptionPriceChanged',
  'SubscriptionCanceled',
  ...DISPUTE_EVENT_TYPES,
];

const INVOICE_TYPES = new Set(['InvoiceIssued', 'InvoicePaymentAttempted', 'InvoiceVoided', 'InvoiceMarkedUncollectible']);
const SUBSCRIPTION_TYPES = new Set(['SubscriptionPeriodStarted', 'SubscriptionResumed', 'SubscriptionPriceChanged', 'SubscriptionCanceled']);

/** What a batch must load into the books before folding its events (ledger-books-sql.ts). */
export interface BooksNeeded {
  readonly invoiceIds: Set<string>;
  /** Their invoices still deferring revenue. */
  readonly subscriptionIds: Set<string>;
  /** Payments captured or refunded: their invoice link, and that invoice. */
  readonly paymentIds: Set<string>;
  /** Subscriptions canceled: all their invoices (the canceled period's may no longer defer anything). */
  readonly canceledSubscriptionIds: Set<string>;
}

/** The rows `events` may read: found from the raw data, without upcasting (a bad event fails later, named). */
export function booksNeeded(events: readonly RecordedEvent[]): BooksNeeded {
  const needed: BooksNeeded = { invoiceIds: new Set(), subscriptionIds: new Set(), paymentIds: new Set(), canceledSubscriptionIds: new Set() };
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  for (const event of events) {
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (INVOICE_TYPES.has(event.type)) {
      const invoiceId = text(data.invoiceId);
      if (invoiceId) needed.invoiceIds.add(invoiceId);
      const subscriptionId = text(data.subscriptionId);
      if (event.type === 'InvoiceIssued' && subscriptionId) needed.subscriptionIds.add(subscriptionId);
    } else if (SUBSCRIPTION_TYPES.has(event.type)) {
      const subscriptionId = text(data.subscriptionId);
      if (subscriptionId) needed.subscriptionIds.add(subscriptionId);
      if (subscriptionId && event.type === 'SubscriptionCanceled') needed.canceledSubscriptionIds.add(subscriptionId);
    } else if (event.type === 'PaymentCaptured' || event.type === 'RefundSucceeded') {
      const paymentId = text(data.paymentId);
      if (paymentId) needed.paymentIds.add(paymentId);
    }
  }
  return needed;
}

/**
 * The entry `event` posts, or undefined when it moves no money (an event type without a
 * rule, or an amount of zero). `books` is read and changed: it must hold what `booksNeeded`
 * names, as earlier events left it. Without books (payments only) every capture is plain
 * revenue. Throws ProjectionEventError for an event whose data is not what its type
 * promises: the projection stops at it rather than post a guess.
 */
export function postingsFor(event: RecordedEvent, books: LedgerBooks = new LedgerBooks()): LedgerEntry | undefined {
  if (!LEDGER_EVENT_TYPES.includes(event.type)) return undefined;
  if (isInvoiceEventType(event.type)) return invoicePostings(event, typed(event, () => upcastInvoiceEvent(event.type, event.data, event.metadata.schemaVersion)), books);
  if (isDisputeEventType(event.type)) return disputePostings(event, typed(event, () => toDisputeEvent(event)));
  if (isSubscriptionEventType(event.type)) return subscriptionPostings(event, typed(event, () => upcastSubscriptionEvent(event.type, event.data, event.metadata.schemaVersion)), books);
  return paymentPostings(event, typed(event, () => (event.type.startsWith('Refund') ? toRefundEvent(event) : toDomainEvent(event))), books);
}

/** The typed event through the domain's upcasters, or a ProjectionEventError naming this event. */
function typed<T>(event: RecordedEvent, upcast: () => T): T {
  try {
    return upcast();
  } catch (error) {
    throw new ProjectionEventError(event, describeError(error));
  }
}

interface EntryFacts {
  readonly description: string;
  readonly paymentId: string | null;
  readonly refundId: string | null;
  readonly customerId: string | null;
}

function entry(event: RecordedEvent, facts: EntryFacts, postings: LedgerPosting[]): LedgerEntry | undefined {
  if (postings.length === 0) return undefined;
  return {
    id: event.id,
    object: 'ledger_entry',
    eventId: event.id,
    eventType: event.type,
    position: formatPosition(event.position),
    occurredAt: new Date(event.metadata.occurredAt).toISOString(),
    description: facts.description,
    paymentId: facts.paymentId,
    refundId: facts.refundId,
    customerId: facts.customerId,
    postings,
  };
}

const pair = (debit: string, credit: string, amount: number, currency: CurrencyCode): LedgerPosting[] => [
  { account: debit, side: 'debit', amount, currency },
  { account: credit, side: 'credit', amount, currency },
];

/** Debits and credits of several amounts, netted per account and currency, zeros left out: debits first, each side in the order named. */
class Postings {
  private readonly net = new Map<string, { account: string; currency: CurrencyCode; amount: number }>();
  debit(account: string, amount: number, currency: CurrencyCode): this {
    return this.add(account, amount, currency);
  }
  credit(account: string, amount: number, currency: CurrencyCode): this {
    return this.add(account, -amount, currency);
  }
  build(): LedgerPosting[] {
    const all = [...this.net.values()].filter((p) => p.amount !== 0);
    const side = (p: { amount: number }): 'debit' | 'credit' => (p.amount > 0 ? 'debit' : 'credit');
    return [...all.filter((p) => p.amount > 0), ...all.filter((p) => p.amount < 0)].map((p) => ({ account: p.account, side: side(p), amount: Math.abs(p.amount), currency: p.currency }));
  }
  private add(account: string, signed: number, currency: CurrencyCode): this {
    const key = `${account}\u0000${currency}`;
    const at = this.net.get(key) ?? { account, currency, amount: 0 };
    this.net.set(key, { ...at, amount: at.amount + signed });
    return this;
  }
}

/** What a dispute in `status` keeps away from provider_clearing: held back while open, lost for good once lost. */
const disputeHolds = (status: DisputeStatus | null, amount: number): { readonly held: number; readonly lost: number } => ({
  held: status !== null && disputeHoldsFunds(status) ? amount : 0,
  lost: status === 'lost' ? amount : 0,
});

function disputePostings(event: RecordedEvent, typed: DisputeEvent): LedgerEntry | undefined {
  const d = typed.data;
  const amount = checkedAmount(event, d.amount);
  const before = disputeHolds(typed.type === 'DisputeOpened' ? null : typed.data.previousStatus, amount);
  const after = disputeHolds(d.status, amount);
  const fee = checkedAmount(event, d.feeAmount) - (typed.type === 'DisputeOpened' ? 0 : checkedAmount(event, typed.data.previousFeeAmount));
  const held = after.held - before.held;
  const lost = after.lost - before.lost;
  // Signed amounts: a negative debit is a credit (Postings nets per account).
  const postings = new Postings()
    .debit(ACCOUNTS.disputedFunds, held, d.currency)
    .debit(ACCOUNTS.chargebacks, lost, d.currency)
    .debit(ACCOUNTS.disputeFees, fee, d.currency)
    .credit(ACCOUNTS.providerClearing, held + lost + fee, d.currency);
  const what = typed.type === 'DisputeOpened' ? `opened (${d.status})` : typed.type === 'DisputeClosed' ? d.status : `${typed.data.previousStatus} → ${d.status}`;
  return entry(event, { description: `Dispute ${d.disputeId} of payment ${d.paymentId} ${what}`, paymentId: d.paymentId, refundId: null, customerId: d.customerId }, postings.build());
}

function paymentPostings(event: RecordedEvent, typed: PaymentEvent | RefundEvent, books: LedgerBooks): LedgerEntry | undefined {
  switch (typed.type) {
    case 'PaymentCaptured': {
      const { paymentId, customerId, currency } = typed.data;
      const amount = checkedAmount(event, typed.data.amount);
      if (amount === 0) return undefined;
      const facts = { paymentId, refundId: null, customerId };
      const link = books.paymentOf(paymentId);
      if (!link) return entry(event, { ...facts, description: `Payment ${paymentId} captured` }, pair(ACCOUNTS.providerClearing, ACCOUNTS.revenue, amount, currency));
      return entry(event, { ...facts, description: `Payment ${paymentId} captured for invoice ${link.invoiceId}` }, invoicePaymentCaptured(event, books, link.paymentId, amount, currency));
    }
    case 'RefundSucceeded': {
      const { paymentId, refundId, customerId, currency } = typed.data;
      const amount = checkedAmount(event, typed.data.amount);
      if (amount === 0) return undefined;
      const fromCredit = refundDrawsCredit(event, books, paymentId, amount, currency);
      const postings = new Postings().debit(ACCOUNTS.customerCredit, fromCredit, currency).debit(ACCOUNTS.refunds, amount - fromCredit, currency).credit(ACCOUNTS.providerClearing, amount, currency);
      return entry(event, { description: `Refund ${refundId} of payment ${paymentId} succeeded`, paymentId, refundId, customerId }, postings.build());
    }
    case 'PaymentRefundReserved':
    case 'PaymentRefundSettled':
    case 'PaymentRefundReleased': {
      const { paymentId, refundId, customerId, currency } = typed.data;
      const amount = checkedAmount(event, typed.data.amount);
      if (amount === 0) return undefined;
      const facts = { paymentId, refundId, customerId };
      if (typed.type === 'PaymentRefundReserved') {
        return entry(event, { ...facts, description: `Refund ${refundId} reserved against payment ${paymentId}` }, pair(ACCOUNTS.refundReservations, ACCOUNTS.refundsPending, amount, currency));
      }
      const description = typed.type === 'PaymentRefundSettled' ? `Refund ${refundId} reservation settled` : `Refund ${refundId} reservation released (refund ${releaseOutcome(event)})`;
      return entry(event, { ...facts, description }, pair(ACCOUNTS.refundsPending, ACCOUNTS.refundReservations, amount, currency));
    }
    default:
      return undefined;
  }
}

/**
 * How much of a refund of `paymentId` pays back what the customer is owed (customer_credit):
 * first what the payment itself paid beyond its invoice, then the prorated-cancel credit of
 * the invoice it pays. Draws both down in the books; zero for a payment that pays no invoice.
 */
function refundDrawsCredit(event: RecordedEvent, books: LedgerBooks, paymentId: string, amount: number, currency: CurrencyCode): number {
  const link = books.paymentOf(paymentId);
  if (!link) return 0;
  const overpaid = notYetApplied(link, event.position) ? Math.min(amount, link.unapplied) : 0;
  if (overpaid > 0) books.putPayment({ ...link, unapplied: link.unapplied - overpaid, applied: event.position });
  const invoice = books.invoice(link.invoiceId);
  const owed = invoice && invoice.currency === currency && notYetApplied(invoice, event.position) ? Math.min(amount - overpaid, invoice.cancelCredit) : 0;
  if (invoice && owed > 0) books.putInvoice({ ...invoice, cancelCredit: invoice.cancelCredit - owed, applied: event.position });
  return overpaid + owed;
}

/** A captured invoice payment settles what the invoice owes; beyond that it recovers a write-off, and the rest is owed back. */
function invoicePaymentCaptured(event: RecordedEvent, books: LedgerBooks, paymentId: string, amount: number, currency: CurrencyCode): LedgerPosting[] {
  const link = books.paymentOf(paymentId);
  if (!link || !notYetApplied(link, event.position)) return [];
  const invoice = books.invoice(link.invoiceId);
  if (!invoice) throw new ProjectionEventError(event, `payment ${paymentId} pays invoice ${link.invoiceId}, which the ledger never saw issued`);
  if (invoice.currency !== currency) throw new ProjectionEventError(event, `payment ${paymentId} is in ${currency}, its invoice ${invoice.invoiceId} in ${invoice.currency}`);
  const settles = notYetApplied(invoice, event.position) ? Math.min(amount, invoice.receivable) : 0;
  const recovers = notYetApplied(invoice, event.position) ? Math.min(amount - settles, invoice.writtenOff) : 0;
  const unapplied = amount - settles - recovers;
  if (settles + recovers > 0) books.putInvoice({ ...invoice, receivable: invoice.receivable - settles, writtenOff: invoice.writtenOff - recovers, applied: event.position });
  books.putPayment({ ...link, unapplied: link.unapplied + unapplied, applied: event.position });
  return new Postings()
    .debit(ACCOUNTS.providerClearing, amount, currency)
    .credit(ACCOUNTS.accountsReceivable, settles, currency)
    .credit(ACCOUNTS.badDebt, recovers, currency)
    .credit(ACCOUNTS.customerCredit, unapplied, currency)
    .build();
}

function releaseOutcome(event: RecordedEvent): string {
  const outcome = (event.data as { outcome?: unknown }).outcome;
  return outcome === 'failed' || outcome === 'canceled' ? outcome : 'resolved';
}

function invoicePostings(event: RecordedEvent, typed: InvoiceEvent, books: LedgerBooks): LedgerEntry | undefined {
  const d = typed.data;
  const facts: EntryFacts = { description: '', paymentId: null, refundId: null, customerId: d.customerId };
  const known = books.invoice(d.invoiceId);
  switch (typed.type) {
    case 'InvoiceIssued': {
      if (known) return undefined;
      const { charges, credits } = lineTotals(event, typed.data.lines, typed.data.total);
      const others = books.invoicesOf(d.subscriptionId).filter((b) => b.currency === d.currency && b.deferred > 0 && notYetApplied(b, event.position));
      // The credit is for the most recent time, so it comes out of the newest invoices first.
      const takenBack = takeDeferred(books, others.reverse(), credits, event);
      const total = typed.data.total;
      books.putInvoice({
        invoiceId: d.invoiceId,
        subscriptionId: d.subscriptionId,
        customerId: d.customerId,
        currency: d.currency,
        periodEnd: checkedTime(event, typed.data.periodEnd),
        issued: event.position,
        receivable: total,
        deferred: charges,
        writtenOff: 0,
        cancelCredit: 0,
        applied: event.position,
      });
      const postings = new Postings()
        .debit(ACCOUNTS.accountsReceivable, total, d.currency)
        .debit(ACCOUNTS.deferredRevenue, takenBack, d.currency)
        .debit(ACCOUNTS.revenue, credits - takenBack, d.currency)
        .credit(ACCOUNTS.deferredRevenue, charges, d.currency)
        .credit(ACCOUNTS.customerCredit, Math.max(0, credits - charges), d.currency);
      return entry(event, { ...facts, description: `Invoice ${d.invoiceId} issued (${typed.data.billingReason})` }, postings.build());
    }
    case 'InvoicePaymentAttempted': {
      if (!books.paymentOf(typed.data.paymentId)) books.putPayment({ paymentId: typed.data.paymentId, invoiceId: d.invoiceId, unapplied: 0, applied: event.position });
      return undefined;
    }
    case 'InvoiceVoided': {
      const invoice = issued(event, known);
      if (!notYetApplied(invoice, event.position) || invoice.receivable === 0) return undefined;
      const reversed = Math.min(invoice.receivable, invoice.deferred);
      books.putInvoice({ ...invoice, receivable: 0, deferred: invoice.deferred - reversed, applied: event.position });
      const postings = new Postings()
        .debit(ACCOUNTS.deferredRevenue, reversed, d.currency)
        .debit(ACCOUNTS.revenue, invoice.receivable - reversed, d.currency)
        .credit(ACCOUNTS.accountsReceivable, invoice.receivable, d.currency);
      return entry(event, { ...facts, description: `Invoice ${d.invoiceId} voided` }, postings.build());
    }
    case 'InvoiceMarkedUncollectible': {
      const invoice = issued(event, known);
      if (!notYetApplied(invoice, event.position) || invoice.receivable === 0) return undefined;
      books.putInvoice({ ...invoice, receivable: 0, writtenOff: invoice.writtenOff + invoice.receivable, applied: event.position });
      return entry(event, { ...facts, description: `Invoice ${d.invoiceId} written off as uncollectible` }, pair(ACCOUNTS.badDebt, ACCOUNTS.accountsReceivable, invoice.receivable, d.currency));
    }
    default:
      return undefined;
  }
}

function issued(event: RecordedEvent, book: InvoiceBook | undefined): InvoiceBook {
  if (!book) throw new ProjectionEventError(event, `${event.type} of an invoice the ledger never saw issued`);
  return book;
}

/** Charges (subscription and proration_charge lines, ≥ 0) and credits (proration_credit lines, ≤ 0, as a positive sum); the total must be what they make. */
function lineTotals(event: RecordedEvent, lines: readonly InvoiceLine[], total: number): { charges: number; credits: number } {
  if (!Array.isArray(lines) || lines.length === 0) throw new ProjectionEventError(event, 'InvoiceIssued has no lines');
  let charges = 0;
  let credits = 0;
  for (const line of lines as readonly unknown[]) {
    const { kind, amount } = (line ?? {}) as { kind?: unknown; amount?: unknown };
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || Math.abs(amount) > MAX_AMOUNT_MINOR) {
      throw new ProjectionEventError(event, `InvoiceIssued has a line that is not a count of minor units: ${String(amount)}`);
    }
    if (kind === 'proration_credit' && amount <= 0) credits -= amount;
    else if ((kind === 'subscription' || kind === 'proration_charge') && amount >= 0) charges += amount;
    else throw new ProjectionEventError(event, `InvoiceIssued has a ${String(kind)} line of ${amount}: charges are positive, credits negative`);
  }
  if (total !== Math.max(0, charges - credits)) throw new ProjectionEventError(event, `InvoiceIssued total ${total} is not its lines' sum floored at zero (${charges} − ${credits})`);
  return { charges, credits };
}

/** Takes up to `amount` of deferred revenue out of `invoices`, in the order given; returns how much it took. */
function takeDeferred(books: LedgerBooks, invoices: readonly InvoiceBook[], amount: number, event: RecordedEvent): number {
  let left = amount;
  for (const invoice of invoices) {
    if (left === 0) break;
    const take = Math.min(left, invoice.deferred);
    if (take === 0) continue;
    books.putInvoice({ ...invoice, deferred: invoice.deferred - take, applied: event.position });
    left -= take;
  }
  return amount - left;
}

function subscriptionPostings(event: RecordedEvent, typed: SubscriptionEvent, books: LedgerBooks): LedgerEntry | undefined {
  const { subscriptionId, customerId } = typed.data;
  const deferring = books.invoicesOf(subscriptionId).filter((b) => b.deferred > 0 && notYetApplied(b, event.position));
  const facts: EntryFacts = { description: '', paymentId: null, refundId: null, customerId };
  switch (typed.type) {
    case 'SubscriptionPeriodStarted': {
      const start = checkedTime(event, typed.data.currentPeriod.start);
      const served = deferring.filter((b) => Date.parse(b.periodEnd) <= Date.parse(start));
      return recognition(event, books, served, null, `Subscription ${subscriptionId}: period ended ${start}`, facts).entry;
    }
    case 'SubscriptionResumed':
      return recognition(event, books, deferring, null, `Subscription ${subscriptionId} resumed: the earlier cycle is over`, facts).entry;
    case 'SubscriptionPriceChanged': {
      if (!typed.data.restartedPeriod) return undefined;
      const credit = typed.data.proration ? checkedAmount(event, typed.data.proration.credit) : 0;
      const keep = { amount: credit, currency: typed.data.price.currency, to: null };
      return recognition(event, books, deferring, keep, `Subscription ${subscriptionId}: cycle restarted by a price change`, facts).entry;
    }
    case 'SubscriptionCanceled': {
      const p = typed.data.proration;
      const refund = p ? { amount: checkedAmount(event, p.credit), currency: p.currency, to: ACCOUNTS.customerCredit } : null;
      const { entry, setAside } = recognition(event, books, deferring, refund, `Subscription ${subscriptionId} canceled (${typed.data.cause})`, facts);
      if (p && setAside > 0) holdCancelCredit(books, deferring, subscriptionId, p.currency, checkedTime(event, typed.data.at), setAside);
      return entry;
    }
    default:
      return undefined;
  }
}

/**
 * A prorated cancel's credit, owed to the customer, is held for the invoice of the canceled
 * period, whose payment billing refunds (billing-steps.ts, refundProration): of the invoices
 * the cancel found deferring in the credit's currency, the newest whose period ends after the
 * cancel (a proration invoice's period ends at its change, so it is passed over); else, of
 * all the subscription's invoices, the newest whose period ends after the cancel (a price
 * change at the period's first instant takes all of its deferred revenue as credit, so it no
 * longer defers); else the newest deferring one. Its payment's refund draws it down
 * (refundDrawsCredit). `deferring` is as the cancel found it.
 */
function holdCancelCredit(books: LedgerBooks, deferring: readonly InvoiceBook[], subscriptionId: string, currency: CurrencyCode, at: string, amount: number): void {
  const candidates = deferring.filter((b) => b.currency === currency);
  const runningPast = (b: InvoiceBook): boolean => b.currency === currency && Date.parse(b.periodEnd) > Date.parse(at);
  const target = candidates.filter(runningPast).at(-1) ?? books.invoicesOf(subscriptionId).filter(runningPast).at(-1) ?? candidates.at(-1);
  const book = target && books.invoice(target.invoiceId);
  // The credit was set aside from these invoices, so one of them is there.
  if (!book) throw new Error(`a cancel's credit of ${amount} ${currency} was set aside from no invoice`);
  books.putInvoice({ ...book, cancelCredit: book.cancelCredit + amount });
}

/**
 * Recognises what `invoices` still defer, except `aside`: that much (newest invoices first)
 * is kept deferred (`to` null) or moved to `to`; `setAside` is how much was.
 */
function recognition(
  event: RecordedEvent,
  books: LedgerBooks,
  invoices: readonly InvoiceBook[],
  aside: { readonly amount: number; readonly currency: CurrencyCode; readonly to: string | null } | null,
  description: string,
  facts: EntryFacts,
): { entry: LedgerEntry | undefined; setAside: number } {
  const postings = new Postings();
  let asideLeft = aside?.amount ?? 0;
  const recognised: string[] = [];
  for (const invoice of [...invoices].reverse()) {
    const setAside = aside && invoice.currency === aside.currency ? Math.min(asideLeft, invoice.deferred) : 0;
    asideLeft -= setAside;
    const kept = aside?.to === null ? setAside : 0;
    const recognise = invoice.deferred - setAside;
    if (aside?.to) postings.debit(ACCOUNTS.deferredRevenue, setAside, invoice.currency).credit(aside.to, setAside, invoice.currency);
    postings.debit(ACCOUNTS.deferredRevenue, recognise, invoice.currency).credit(ACCOUNTS.revenue, recognise, invoice.currency);
    if (recognise > 0) recognised.unshift(invoice.invoiceId);
    books.putInvoice({ ...invoice, deferred: kept, applied: event.position });
  }
  const text = recognised.length > 0 ? `${description}; revenue recognised for ${recognised.join(', ')}` : description;
  return { entry: entry(event, { ...facts, description: text }, postings.build()), setAside: (aside?.amount ?? 0) - asideLeft };
}

function checkedAmount(event: RecordedEvent, amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0 || amount > MAX_AMOUNT_MINOR) {
    throw new ProjectionEventError(event, `${event.type} has an amount that is not a count of minor units: ${String(amount)}`);
  }
  return amount;
}

function checkedTime(event: RecordedEvent, value: unknown): string {
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw new ProjectionEventError(event, `${event.type} has a time that is not ISO 8601: ${String(value)}`);
  return new Date(at).toISOString();
}
