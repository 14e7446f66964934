import type { CurrencyCode } from '../../domain/currency.js';
import type { PaymentId, RefundId } from '../../domain/ids.js';
import type { RefundReason } from '../../domain/refund/events.js';

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

/**
 * A refund as the API shows it: the body of POST /v1/refunds, the row of the `refunds` read
 * model, and the `data` of realtime `change` messages on `refund:<id>`. One shape, as for
 * payments (key order is the wire order; docs/architecture.md, "Public contract").
 */
export interface RefundView {
  readonly id: RefundId;
  readonly object: 'refund';
  readonly paymentId: PaymentId;
  readonly customerId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly status: RefundStatus;
  readonly reason: RefundReason | null;
  /** Stripe's `failure_reason` when the processor could not refund (e.g. `expired_or_canceled_card`); null otherwise. */
  readonly failureReason: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}
