import type { CurrencyCode } from '../currency.js';
import type { PaymentId } from '../ids.js';
import type { PaymentRefundEvent } from './refund-events.js';
import { PAYMENT_REFUND_EVENT_TYPES } from './refund-events.js';

/**
 * Payment events: past-tense facts, plain JSON data, amounts in integer minor units.
 * Every event carries the payment id so a projection never has to parse a stream name.
 * The branded ids are types only: on disk they are strings, and upcast.ts is where JSON
 * becomes a typed event.
 */
export type CaptureMethod = 'automatic' | 'manual';
export type CancellationReason = 'requested_by_customer' | 'duplicate' | 'fraudulent' | 'abandoned';

/** What a payment is, fixed when it is created: both outcomes of its authorization record it. */
export interface PaymentDetails {
  readonly paymentId: PaymentId;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly paymentMethod: string;
  readonly captureMethod: CaptureMethod;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What every later event repeats of its payment, so a consumer needs no lookup to route it. */
export type PaymentReference = Pick<PaymentDetails, 'paymentId' | 'customerId' | 'currency'>;

export const referenceOf = (payment: PaymentReference): PaymentReference => ({
  paymentId: payment.paymentId,
  customerId: payment.customerId,
  currency: payment.currency,
});

export interface PaymentAuthorized {
  readonly type: 'PaymentAuthorized';
  readonly data: PaymentDetails & { readonly providerPaymentId: string };
}

export interface PaymentFailed {
  readonly type: 'PaymentFailed';
  readonly data: PaymentDetails & {
    /** Null when the processor declined without creating anything on its side. */
    readonly providerPaymentId: string | null;
    readonly failureCode: string;
    readonly declineCode: string | null;
    readonly failureMessage: string;
  };
}

export interface PaymentCaptured {
  readonly type: 'PaymentCaptured';
  readonly data: PaymentReference & {
    readonly amount: number;
    /** Authorized but not captured: a partial capture gives the rest back to the cardholder. */
    readonly amountReleased: number;
  };
}

export interface PaymentCanceled {
  readonly type: 'PaymentCanceled';
  readonly data: PaymentReference & {
    readonly amountReleased: number;
    readonly reason: CancellationReason | null;
  };
}

export type PaymentEvent = PaymentAuthorized | PaymentCaptured | PaymentCanceled | PaymentFailed | PaymentRefundEvent;
export type PaymentEventType = PaymentEvent['type'];

export const PAYMENT_EVENT_TYPES: readonly PaymentEventType[] = [
  'PaymentAuthorized',
  'PaymentCaptured',
  'PaymentCanceled',
  'PaymentFailed',
  ...PAYMENT_REFUND_EVENT_TYPES,
];
