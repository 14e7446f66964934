import type { PaymentEvent } from './events.js';
import type { PaymentStatus } from './state.js';

/** Every way a payment command can be refused. Typed, so the HTTP layer maps each to a status. */
export type PaymentError =
  | { readonly code: 'payment_not_found'; readonly paymentId: string }
  | { readonly code: 'payment_already_exists'; readonly paymentId: string }
  | { readonly code: 'invalid_amount'; readonly message: string }
  | { readonly code: 'capture_exceeds_authorized'; readonly requested: number; readonly capturable: number }
  | { readonly code: 'illegal_transition'; readonly from: PaymentStatus; readonly command: string }
  /** Only a succeeded or partially_refunded payment can be refunded. */
  | { readonly code: 'payment_not_refundable'; readonly paymentId: string; readonly status: PaymentStatus }
  /** refundable = captured − refunded − open reservations. */
  | { readonly code: 'amount_exceeds_refundable'; readonly requested: number; readonly refundable: number; readonly currency: string }
  /** This refund already has a reservation on the payment (open or closed): reserving again would count it twice. */
  | { readonly code: 'refund_already_reserved'; readonly refundId: string }
  /** Settle or release of a reservation that does not exist or was closed the other way. */
  | { readonly code: 'refund_reservation_not_open'; readonly refundId: string; readonly reservation: 'missing' | 'settled' | 'released' }
  /** An operation asked of the processor is not answered yet: nothing else may go to the processor until it is. */
  | { readonly code: 'payment_operation_pending'; readonly paymentId: string; readonly operation: 'create' | 'capture' | 'cancel' }
  /** An outcome to record, but no operation of that kind is pending (a bug in the caller, or someone else recorded it). */
  | { readonly code: 'no_operation_pending'; readonly paymentId: string; readonly operation: 'create' | 'capture' | 'cancel' };

export const illegalTransition = (from: PaymentStatus, command: string): PaymentError => ({
  code: 'illegal_transition',
  from,
  command,
});

/**
 * An event that cannot follow the state it is applied to: a capture of a payment that was
 * never created, a second creation, more money settled than was authorized. decide never
 * produces one, so it means a corrupt or misrouted stream: a bug, thrown, never skipped.
 */
export class EventNotApplicable extends Error {
  override readonly name = 'EventNotApplicable';
  constructor(
    readonly event: PaymentEvent,
    readonly reason:
      | 'not_created'
      | 'already_created'
      | 'currency_differs'
      | 'exceeds_amount'
      | 'not_refundable'
      | 'exceeds_refundable'
      | 'reservation_exists'
      | 'reservation_not_open'
      | 'operation_pending'
      | 'no_operation_pending',
    detail: string,
  ) {
    super(`${event.type} cannot apply to payment ${event.data.paymentId}: ${detail}`);
  }
}
