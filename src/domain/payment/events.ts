/**
 * Payment events: past-tense facts, plain JSON data, amounts in integer minor units.
 * Every event carries the payment id so a projection never has to parse a stream name.
 */
export type CaptureMethod = 'automatic' | 'manual';
export type CancellationReason = 'requested_by_customer' | 'duplicate' | 'fraudulent' | 'abandoned';

export interface PaymentAuthorized {
  readonly type: 'PaymentAuthorized';
  readonly data: {
    readonly paymentId: string;
    readonly customerId: string;
    readonly amount: number;
    readonly currency: string;
    readonly paymentMethod: string;
    readonly captureMethod: CaptureMethod;
    readonly providerPaymentId: string;
    readonly description: string | null;
    readonly metadata: Readonly<Record<string, string>>;
  };
}

export interface PaymentCaptured {
  readonly type: 'PaymentCaptured';
  readonly data: {
    readonly paymentId: string;
    readonly customerId: string;
    readonly amount: number;
    readonly currency: string;
    /** Authorized but not captured: a partial capture gives the rest back to the cardholder. */
    readonly amountReleased: number;
  };
}

export interface PaymentCanceled {
  readonly type: 'PaymentCanceled';
  readonly data: {
    readonly paymentId: string;
    readonly customerId: string;
    readonly currency: string;
    readonly amountReleased: number;
    readonly reason: CancellationReason | null;
  };
}

export interface PaymentFailed {
  readonly type: 'PaymentFailed';
  readonly data: {
    readonly paymentId: string;
    readonly customerId: string;
    readonly amount: number;
    readonly currency: string;
    readonly paymentMethod: string;
    readonly captureMethod: CaptureMethod;
    readonly providerPaymentId: string | null;
    readonly failureCode: string;
    readonly declineCode: string | null;
    readonly failureMessage: string;
    readonly description: string | null;
    readonly metadata: Readonly<Record<string, string>>;
  };
}

export type PaymentEvent = PaymentAuthorized | PaymentCaptured | PaymentCanceled | PaymentFailed;
export type PaymentEventType = PaymentEvent['type'];

export const PAYMENT_EVENT_TYPES: readonly PaymentEventType[] = [
  'PaymentAuthorized',
  'PaymentCaptured',
  'PaymentCanceled',
  'PaymentFailed',
];
