import type { InvoiceEvent } from './events.js';
import type { InvoiceStatus } from './state.js';

export type InvoiceError =
  | { readonly code: 'invoice_already_exists'; readonly invoiceId: string }
  | { readonly code: 'invoice_not_found'; readonly invoiceId: string }
  /** Paid and void invoices stay so. */
  | { readonly code: 'invoice_final'; readonly invoiceId: string; readonly status: InvoiceStatus }
  /** An attempt out of order, or one while another is still pending. */
  | { readonly code: 'invoice_attempt_out_of_order'; readonly invoiceId: string; readonly expected: number; readonly attempt: number }
  /** An outcome for a payment that is not this invoice's pending attempt. */
  | { readonly code: 'invoice_payment_unknown'; readonly invoiceId: string; readonly paymentId: string }
  | { readonly code: 'invoice_not_due'; readonly invoiceId: string; readonly dueAt: string }
  | { readonly code: 'invalid_invoice'; readonly message: string };

export class InvoiceEventNotApplicable extends Error {
  override readonly name = 'InvoiceEventNotApplicable';
  constructor(
    readonly event: InvoiceEvent,
    readonly reason: 'not_created' | 'already_created' | 'final' | 'other_invoice' | 'unknown_attempt',
    detail: string,
  ) {
    super(`${event.type} cannot apply to invoice ${event.data.invoiceId}: ${detail}`);
  }
}
