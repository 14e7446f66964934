import type { CurrencyCode } from '../currency.js';
import type { DisputeId, PaymentId } from '../ids.js';

/**
 * Dispute (chargeback) events (stream `dispute-<id>`): past-tense facts, plain JSON, integer
 * minor units. A dispute is opened by the cardholder's bank, never by us: every event
 * records what the processor told us. Each event repeats the dispute's payment, customer,
 * currency and amount, and what it changed (status and fee, before and after), so the
 * ledger posts from one event without a lookup and without state of its own.
 */

/** Stripe's dispute statuses, as Stripe spells them. */
export type DisputeStatus =
  | 'warning_needs_response'
  | 'warning_under_review'
  | 'warning_closed'
  | 'needs_response'
  | 'under_review'
  | 'won'
  | 'lost';

export const DISPUTE_STATUSES: readonly DisputeStatus[] = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
];

export type DisputeClosedStatus = 'won' | 'lost' | 'warning_closed';

export interface DisputeReference {
  readonly disputeId: DisputeId;
  readonly paymentId: PaymentId;
  readonly customerId: string;
  /** The disputed amount, in the payment's currency. */
  readonly amount: number;
  readonly currency: CurrencyCode;
  /** The processor's id of the dispute. */
  readonly providerDisputeId: string;
}

/** What the processor says about a dispute besides its status. */
export interface DisputeDetails {
  readonly reason: string;
  /** What the processor has charged us for the dispute, net of any fee given back. */
  readonly feeAmount: number;
  readonly evidenceDueBy: string | null;
}

/** We learnt of the dispute; its status may already be past the first (a missed webhook). */
export interface DisputeOpened {
  readonly type: 'DisputeOpened';
  readonly data: DisputeReference &
    DisputeDetails & {
      readonly providerPaymentId: string;
      readonly status: DisputeStatus;
      /** When the processor says it was opened. */
      readonly openedAt: string;
    };
}

/** The processor moved the dispute forward (not to a close), or changed its fee, reason or deadline. */
export interface DisputeUpdated {
  readonly type: 'DisputeUpdated';
  readonly data: DisputeReference &
    DisputeDetails & {
      readonly previousStatus: DisputeStatus;
      readonly status: DisputeStatus;
      readonly previousFeeAmount: number;
    };
}

/** The dispute is over: won (the money comes back), lost (it stays with the cardholder), or an inquiry closed. */
export interface DisputeClosed {
  readonly type: 'DisputeClosed';
  readonly data: DisputeReference &
    DisputeDetails & {
      readonly previousStatus: DisputeStatus;
      readonly status: DisputeClosedStatus;
      readonly previousFeeAmount: number;
    };
}

export type DisputeEvent = DisputeOpened | DisputeUpdated | DisputeClosed;
export type DisputeEventType = DisputeEvent['type'];

export const DISPUTE_EVENT_TYPES: readonly DisputeEventType[] = ['DisputeOpened', 'DisputeUpdated', 'DisputeClosed'];
