import type { CurrencyCode } from '../../domain/currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../../domain/ids.js';
import type { BillingReason, ExistingInvoice, InvoiceAttempt, InvoiceLine, InvoiceStatus } from '../../domain/invoice/index.js';

/**
 * An invoice as the API shows it: the body of GET /v1/invoices/:id and of list pages, and
 * the `data` of realtime `invoice.*` changes (docs/architecture.md, "Subscriptions").
 */
export interface InvoiceView {
  readonly id: InvoiceId;
  readonly object: 'invoice';
  readonly status: InvoiceStatus;
  readonly subscriptionId: SubscriptionId;
  readonly customerId: string;
  readonly currency: CurrencyCode;
  readonly billingReason: BillingReason;
  readonly lines: readonly InvoiceLine[];
  readonly total: number;
  readonly amountPaid: number;
  readonly amountDue: number;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly attemptCount: number;
  readonly nextPaymentAttempt: string | null;
  readonly attempts: readonly InvoiceAttempt[];
  readonly payments: readonly PaymentId[];
  readonly testClock: string | null;
  readonly paidAt: string | null;
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  /** When it was issued, on its subscription's clock. */
  readonly createdAt: string;
}

export function toInvoiceView(i: ExistingInvoice, revision: bigint): InvoiceView {
  // Field by field, in the order of the JSON that clients see.
  return {
    id: i.invoiceId,
    object: 'invoice',
    status: i.status,
    subscriptionId: i.subscriptionId,
    customerId: i.customerId,
    currency: i.currency,
    billingReason: i.billingReason,
    lines: i.lines,
    total: i.total,
    amountPaid: i.amountPaid,
    amountDue: Math.max(0, i.total - i.amountPaid),
    periodStart: i.periodStart,
    periodEnd: i.periodEnd,
    attemptCount: i.attempts.length,
    nextPaymentAttempt: i.nextAttemptAt,
    attempts: i.attempts.map((a) => ({ attempt: a.attempt, paymentId: a.paymentId, at: a.at, outcome: a.outcome, failureCode: a.failureCode, settledAt: a.settledAt })),
    payments: i.attempts.map((a) => a.paymentId),
    testClock: i.testClock,
    paidAt: i.paidAt,
    revision: revision.toString(),
    createdAt: i.issuedAt,
  };
}
