import type { PaymentId } from '../ids.js';
import type { BillingReason, InvoiceLine, InvoiceReference } from './events.js';

/** Stripe's invoice statuses. `draft` is never held at rest: invoices are finalized as they are issued. */
export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';

export const INVOICE_TERMINAL_STATUSES: readonly InvoiceStatus[] = ['paid', 'void'];

export interface InvoiceAttempt {
  readonly attempt: number;
  readonly paymentId: PaymentId;
  readonly at: string;
  readonly outcome: 'pending' | 'succeeded' | 'failed';
  readonly failureCode: string | null;
  /** When its outcome was recorded; null while pending. */
  readonly settledAt: string | null;
}

export interface ExistingInvoice extends InvoiceReference {
  readonly exists: true;
  readonly status: InvoiceStatus;
  readonly billingReason: BillingReason;
  readonly lines: readonly InvoiceLine[];
  readonly total: number;
  readonly amountPaid: number;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly issuedAt: string;
  readonly testClock: string | null;
  readonly attempts: readonly InvoiceAttempt[];
  readonly nextAttemptAt: string | null;
  readonly paidAt: string | null;
}

export type InvoiceState = { readonly exists: false } | ExistingInvoice;

export const initialInvoiceState: InvoiceState = { exists: false };
