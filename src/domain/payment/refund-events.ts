import type { RefundId } from '../ids.js';
import type { RefundReason } from '../refund/events.js';
import type { PaymentReference } from './events.js';

/**
 * What refunds do to a payment's money, recorded on the payment's stream (two-phase, like a
 * pending transfer): a refund first reserves its amount, then the reservation is settled
 * (the refund succeeded) or released (it failed or was canceled).
 *
 *   refundable = captured − settled refunds − open reservations
 *
 * Reserving on the payment stream makes the check and the reservation one append at the
 * payment's expected revision: concurrent refunds cannot both take the last cent.
 */
export interface RefundReservation {
  readonly refundId: RefundId;
  readonly amount: number;
}

export interface PaymentRefundReserved {
  readonly type: 'PaymentRefundReserved';
  /** Carries the refund's request, so the refund can be (re)created from this event alone after a crash. */
  readonly data: PaymentReference &
    RefundReservation & {
      readonly reason: RefundReason | null;
      readonly metadata: Readonly<Record<string, string>>;
    };
}

export interface PaymentRefundSettled {
  readonly type: 'PaymentRefundSettled';
  readonly data: PaymentReference & RefundReservation;
}

export interface PaymentRefundReleased {
  readonly type: 'PaymentRefundReleased';
  readonly data: PaymentReference & RefundReservation & { readonly outcome: 'failed' | 'canceled' };
}

export type PaymentRefundEvent = PaymentRefundReserved | PaymentRefundSettled | PaymentRefundReleased;

export const PAYMENT_REFUND_EVENT_TYPES: readonly PaymentRefundEvent['type'][] = [
  'PaymentRefundReserved',
  'PaymentRefundSettled',
  'PaymentRefundReleased',
];
