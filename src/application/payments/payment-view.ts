import type { ExistingPayment, PaymentFailure, PaymentStatus } from '../../domain/payment/index.js';

/**
 * A payment as the API shows it: the body of command responses, the row of the
 * `payments` read model, and the `data` of realtime `change` messages. One shape, so a
 * client never has to reconcile two views of the same payment.
 */
export interface PaymentView {
  readonly id: string;
  readonly object: 'payment';
  readonly status: PaymentStatus;
  readonly customerId: string;
  readonly amount: number;
  readonly amountCapturable: number;
  readonly amountCaptured: number;
  readonly amountReleased: number;
  readonly currency: string;
  readonly captureMethod: 'automatic' | 'manual';
  readonly paymentMethod: string;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly failure: PaymentFailure | null;
  readonly cancellationReason: string | null;
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function toPaymentView(state: ExistingPayment, revision: bigint, createdAt: string, updatedAt: string): PaymentView {
  return {
    id: state.id,
    object: 'payment',
    status: state.status,
    customerId: state.customerId,
    amount: state.amount,
    amountCapturable: state.amountCapturable,
    amountCaptured: state.amountCaptured,
    amountReleased: state.amountReleased,
    currency: state.currency,
    captureMethod: state.captureMethod,
    paymentMethod: state.paymentMethod,
    description: state.description,
    metadata: state.metadata,
    failure: state.failure,
    cancellationReason: state.cancellationReason,
    revision: revision.toString(),
    createdAt,
    updatedAt,
  };
}
