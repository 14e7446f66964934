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
  /**
   * The processor's customer the payment method is saved to (Stripe `cus_…`): a saved
   * card is charged with its customer. Absent when there is none, and in every event
   * written before it existed (those fold as null).
   */
  readonly providerCustomerId?: string | null;
  /**
   * Charged without the customer present (a subscription's renewal): a card that needs
   * authentication declines (`authentication_required`) instead of waiting for them.
   * Recorded with the request so that its completion asks the processor the very same
   * thing under the same key. Absent means on-session.
   */
  readonly offSession?: boolean;
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
    /**
     * Set when the processor refused the request itself (failureCode `invalid_request`):
     * the parameter it named. Absent in events written before intents existed.
     */
    readonly invalidParam?: string;
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

/*
 * Intent first (docs/architecture.md, "Payments: intent first"): before we ask the processor
 * to move money, the log records that we are about to, with the processor idempotency key
 * we will use. A crash between the call and the outcome then leaves a pending operation in
 * the log, which a retry or the completer finishes by asking again with the same key (the
 * processor answers the same), never money moved that the ledger never hears of. Streams
 * written before these events existed simply have none: their outcomes fold as they always did.
 */

/** We are about to ask the processor to authorize (and, automatic capture, capture) this payment. */
export interface PaymentRequested {
  readonly type: 'PaymentRequested';
  readonly data: PaymentDetails & {
    /** The processor idempotency key of the authorization: every completion of this request uses it. */
    readonly providerKey: string;
  };
}

/** We are about to ask the processor to capture `amount` of the authorization. */
export interface PaymentCaptureRequested {
  readonly type: 'PaymentCaptureRequested';
  readonly data: PaymentReference & { readonly amount: number; readonly providerKey: string };
}

/** We are about to ask the processor to cancel the authorization. */
export interface PaymentCancelRequested {
  readonly type: 'PaymentCancelRequested';
  readonly data: PaymentReference & { readonly reason: CancellationReason | null; readonly providerKey: string };
}

/**
 * The processor refused a requested capture or cancel (the payment stays as it was): the
 * pending operation ends, and a retry of the command answers the same refusal.
 */
export interface PaymentOperationRefused {
  readonly type: 'PaymentOperationRefused';
  readonly data: PaymentReference & {
    readonly operation: 'capture' | 'cancel';
    readonly failureCode: string;
    readonly failureMessage: string;
  };
}

export type PaymentIntentEvent = PaymentRequested | PaymentCaptureRequested | PaymentCancelRequested | PaymentOperationRefused;

export const PAYMENT_INTENT_EVENT_TYPES = ['PaymentRequested', 'PaymentCaptureRequested', 'PaymentCancelRequested', 'PaymentOperationRefused'] as const;

/** The events that ask the processor for something: each opens a pending operation. */
export const PAYMENT_REQUEST_EVENT_TYPES = ['PaymentRequested', 'PaymentCaptureRequested', 'PaymentCancelRequested'] as const;

export type PaymentEvent = PaymentAuthorized | PaymentCaptured | PaymentCanceled | PaymentFailed | PaymentRefundEvent | PaymentIntentEvent;
export type PaymentEventType = PaymentEvent['type'];

export const PAYMENT_EVENT_TYPES: readonly PaymentEventType[] = [
  'PaymentAuthorized',
  'PaymentCaptured',
  'PaymentCanceled',
  'PaymentFailed',
  ...PAYMENT_REFUND_EVENT_TYPES,
  ...PAYMENT_INTENT_EVENT_TYPES,
];
