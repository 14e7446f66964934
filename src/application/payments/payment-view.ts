import type { PaymentId } from '../../domain/ids.js';
import type { ExistingPayment } from '../../domain/payment/index.js';

/**
 * A payment as the API shows it: the body of command responses, the row of the
 * `payments` read model, and the `data` of realtime `change` messages. One shape, so a
 * client never has to reconcile two views of the same payment. It is the aggregate's state
 * under the API's names, without the processor's reference (an internal detail), plus
 * where in the stream it stands.
 */
export interface PaymentView extends Omit<ExistingPayment, 'exists' | 'paymentId' | 'providerPaymentId' | 'refundReservations' | 'providerCustomerId' | 'offSession'> {
  readonly id: PaymentId;
  /** The processor's customer the payment method is saved to (Stripe `cus_…`); null when none was given. */
  readonly providerCustomerId: string | null;
  readonly object: 'payment';
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toPaymentView(state: ExistingPayment, revision: bigint, createdAt: string, updatedAt: string): PaymentView {
  // Field by field, in this order: it is the order of the JSON that clients see.
  return {
    id: state.paymentId,
    object: 'payment',
    status: state.status,
    customerId: state.customerId,
    amount: state.amount,
    amountCapturable: state.amountCapturable,
    amountCaptured: state.amountCaptured,
    amountReleased: state.amountReleased,
    amountRefunded: state.amountRefunded,
    currency: state.currency,
    captureMethod: state.captureMethod,
    paymentMethod: state.paymentMethod,
    providerCustomerId: state.providerCustomerId ?? null,
    description: state.description,
    metadata: state.metadata,
    failure: state.failure,
    cancellationReason: state.cancellationReason,
    pendingOperation: state.pendingOperation,
    revision: revision.toString(),
    createdAt,
    updatedAt,
  };
}

/**
 * The state a view was made from, to fold more events into it. The view does not keep the
 * processor's reference, so the result has none: no view field depends on it, but such a
 * state must never reach decide or the provider (the command handlers load from the stream).
 * Nor does it show the refund reservations (bookkeeping, not part of the public shape): a
 * reader that folds refund events into a view keeps them beside it and passes them here.
 */
export function paymentStateOfView(view: PaymentView, refundReservations: ExistingPayment['refundReservations'] = {}): ExistingPayment {
  const { id, object: _object, revision: _revision, createdAt: _createdAt, updatedAt: _updatedAt, ...shown } = view;
  return { exists: true, paymentId: id, providerPaymentId: null, refundReservations, ...shown };
}
