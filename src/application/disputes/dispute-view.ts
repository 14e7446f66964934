import type { CurrencyCode } from '../../domain/currency.js';
import type { DisputeStatus } from '../../domain/dispute/events.js';
import type { DisputeId, PaymentId } from '../../domain/ids.js';

/**
 * A dispute as the API shows it: GET /v1/disputes/:id, the row of the `disputes` read model,
 * and the `data` of realtime `change` messages on `dispute:<id>`. One shape (key order is the
 * wire order). The processor's ids are not shown, as for payments.
 */
export interface DisputeView {
  readonly id: DisputeId;
  readonly object: 'dispute';
  readonly paymentId: PaymentId;
  readonly customerId: string;
  /** The disputed amount, in the payment's currency. */
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly status: DisputeStatus;
  /** The card network's reason, as Stripe names it (`fraudulent`, `product_not_received`, …). */
  readonly reason: string;
  /** What the processor charged for the dispute, net of any fee given back. */
  readonly feeAmount: number;
  readonly evidenceDueBy: string | null;
  /** When the processor says the dispute was opened. */
  readonly openedAt: string;
  /** Stream revision of the last event applied: the ETag. */
  readonly revision: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What a payment shows of each of its disputes. */
export interface PaymentDisputeSummary {
  readonly id: DisputeId;
  readonly status: DisputeStatus;
  readonly amount: number;
  readonly reason: string;
}
