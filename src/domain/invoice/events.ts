import type { CurrencyCode } from '../currency.js';
import type { InvoiceId, PaymentId, SubscriptionId } from '../ids.js';

/**
 * Invoice events (stream `invoice-<id>`, ids `in_`): one invoice per subscription period,
 * its id derived from the subscription and the period's start, so issuing it twice is one
 * stream appended once (docs/architecture.md, "Subscriptions"). Each payment attempt is a
 * payment through the payments path, its id derived from the invoice and the attempt
 * number: one charge per attempt, however often the attempt is retried.
 */

export type InvoiceLineKind = 'subscription' | 'proration_credit' | 'proration_charge';

export interface InvoiceLine {
  readonly kind: InvoiceLineKind;
  /** Minor units; a credit is negative. */
  readonly amount: number;
  readonly description: string;
  readonly periodStart: string;
  readonly periodEnd: string;
}

/** Stripe's `billing_reason`. */
export type BillingReason = 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'subscription_resume';

export interface InvoiceReference {
  readonly invoiceId: InvoiceId;
  readonly subscriptionId: SubscriptionId;
  readonly customerId: string;
  readonly currency: CurrencyCode;
}

/** Finalized at once (Stripe's auto-advance): `open`, or `paid` right away when nothing is due. */
export interface InvoiceIssued {
  readonly type: 'InvoiceIssued';
  readonly data: InvoiceReference & {
    readonly billingReason: BillingReason;
    readonly lines: readonly InvoiceLine[];
    /** The sum of the lines, never below zero (a larger credit is not paid out here). */
    readonly total: number;
    readonly periodStart: string;
    readonly periodEnd: string;
    readonly issuedAt: string;
    readonly testClock: string | null;
  };
}

export interface InvoicePaymentAttempted {
  readonly type: 'InvoicePaymentAttempted';
  readonly data: InvoiceReference & { readonly attempt: number; readonly paymentId: PaymentId; readonly at: string };
}

export interface InvoicePaid {
  readonly type: 'InvoicePaid';
  /** paymentId null: nothing was due (a zero total). */
  readonly data: InvoiceReference & { readonly amountPaid: number; readonly paymentId: PaymentId | null; readonly at: string };
}

export interface InvoicePaymentFailed {
  readonly type: 'InvoicePaymentFailed';
  readonly data: InvoiceReference & {
    readonly attempt: number;
    readonly paymentId: PaymentId;
    readonly failureCode: string;
    readonly at: string;
    /** When dunning tries again; null when the schedule is spent. */
    readonly nextAttemptAt: string | null;
  };
}

export interface InvoiceMarkedUncollectible {
  readonly type: 'InvoiceMarkedUncollectible';
  readonly data: InvoiceReference & { readonly at: string };
}

export interface InvoiceVoided {
  readonly type: 'InvoiceVoided';
  readonly data: InvoiceReference & { readonly at: string };
}

export type InvoiceEvent = InvoiceIssued | InvoicePaymentAttempted | InvoicePaid | InvoicePaymentFailed | InvoiceMarkedUncollectible | InvoiceVoided;
export type InvoiceEventType = InvoiceEvent['type'];
export const INVOICE_EVENT_TYPES: readonly InvoiceEventType[] = [
  'InvoiceIssued',
  'InvoicePaymentAttempted',
  'InvoicePaid',
  'InvoicePaymentFailed',
  'InvoiceMarkedUncollectible',
  'InvoiceVoided',
];
