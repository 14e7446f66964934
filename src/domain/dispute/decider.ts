import type { CurrencyCode } from '../currency.js';
import type { DisputeId, PaymentId } from '../ids.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';
import type { DisputeError } from './errors.js';
import { DisputeEventNotApplicable } from './errors.js';
import type { DisputeEvent, DisputeReference, DisputeStatus } from './events.js';
import type { DisputeState, ExistingDispute } from './state.js';
import { disputeStatusRank, initialDisputeState, isTerminalDisputeStatus } from './state.js';

/**
 * The processor's current view of one dispute, already converted to our units (ISO minor
 * units, our currency codes): what a Stripe webhook's refetch or the simulated processor
 * hands the DisputeCommands port (its ProviderDisputeSnapshot).
 */
export interface DisputeSnapshot {
  /** The processor's id (`dp_…` at Stripe): the dispute's identity, so a repeat is recognised. */
  readonly providerDisputeId: string;
  /** The processor's id of the disputed payment (the PaymentIntent id at Stripe). */
  readonly providerPaymentId: string;
  /** The disputed amount, in the payment's currency. */
  readonly amount: number;
  readonly currency: CurrencyCode;
  readonly status: DisputeStatus;
  /** Stripe's reason (`fraudulent`, `product_not_received`, …). */
  readonly reason: string;
  /** What the processor has charged for the dispute so far, net of any fee it gave back, in the payment's currency. */
  readonly feeAmount: number;
  /** When evidence is due (ISO 8601), if the processor says. */
  readonly evidenceDueBy: string | null;
  /** When the processor says the dispute was opened (ISO 8601). */
  readonly createdAt: string;
}

/** What the dispute handler read of the disputed payment (its own stream). */
export interface DisputedPayment {
  readonly paymentId: PaymentId;
  readonly customerId: string;
  readonly currency: CurrencyCode;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
}

/** Brings the dispute in line with the processor's snapshot. */
export interface SyncDispute {
  readonly type: 'SyncDispute';
  readonly disputeId: DisputeId;
  readonly snapshot: DisputeSnapshot;
  readonly payment: DisputedPayment;
}

export type DisputeCommand = SyncDispute;

/** What every later event repeats of the dispute. Field by field: folds run it per event. */
export const disputeReferenceOf = (d: DisputeReference): DisputeReference => ({
  disputeId: d.disputeId,
  paymentId: d.paymentId,
  customerId: d.customerId,
  amount: d.amount,
  currency: d.currency,
  providerDisputeId: d.providerDisputeId,
});

function open(state: DisputeState, event: DisputeEvent): ExistingDispute {
  if (!state.exists) throw new DisputeEventNotApplicable(event, 'not_opened', 'the dispute was never opened');
  if (state.disputeId !== event.data.disputeId) throw new DisputeEventNotApplicable(event, 'other_dispute', `the stream is dispute ${state.disputeId}`);
  if (isTerminalDisputeStatus(state.status)) throw new DisputeEventNotApplicable(event, 'closed', `the dispute is already ${state.status}`);
  return state;
}

/** The one fold of a dispute: the handler and the read models use it. */
export function evolveDispute(state: DisputeState, event: DisputeEvent): ExistingDispute {
  const d = event.data;
  switch (event.type) {
    case 'DisputeOpened':
      if (state.exists) throw new DisputeEventNotApplicable(event, 'already_opened', 'the dispute was already opened');
      return {
        exists: true,
        ...disputeReferenceOf(d),
        providerPaymentId: event.data.providerPaymentId,
        status: event.data.status,
        reason: d.reason,
        feeAmount: d.feeAmount,
        evidenceDueBy: d.evidenceDueBy,
        openedAt: event.data.openedAt,
      };
    case 'DisputeUpdated':
    case 'DisputeClosed':
      return { ...open(state, event), status: event.data.status, reason: d.reason, feeAmount: d.feeAmount, evidenceDueBy: d.evidenceDueBy };
  }
}

export const foldDispute = (events: readonly DisputeEvent[], from: DisputeState = initialDisputeState): DisputeState =>
  events.reduce<DisputeState>(evolveDispute, from);

const inconsistent = (message: string): Result<never, DisputeError> => err({ code: 'dispute_inconsistent', message });

const isMinor = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * Decides a sync. The processor's snapshot is its whole current view, so the decision is
 * idempotent by state: what the dispute already says is no event. A snapshot of a lower
 * status rank than ours is an older view delivered late and changes nothing; a closed
 * dispute never moves again. At the same rank the snapshot's fee, reason and deadline win
 * (the later delivery). What contradicts the dispute or the payment is refused, not guessed.
 */
export function decideDispute(state: DisputeState, cmd: DisputeCommand): Result<DisputeEvent[], DisputeError> {
  const s = cmd.snapshot;
  if (!isMinor(s.amount) || s.amount === 0) return inconsistent(`the disputed amount ${s.amount} is not a positive integer`);
  if (!isMinor(s.feeAmount)) return inconsistent(`the dispute fee ${s.feeAmount} is not a non-negative integer`);
  if (!state.exists) {
    const p = cmd.payment;
    if (s.currency !== p.currency) return inconsistent(`the dispute is in ${s.currency}, payment ${p.paymentId} in ${p.currency}`);
    const disputable = p.amountCaptured - p.amountRefunded;
    if (s.amount > disputable) return inconsistent(`the dispute of ${s.amount} exceeds what payment ${p.paymentId} has captured and not refunded (${disputable})`);
    return ok([
      {
        type: 'DisputeOpened',
        data: {
          disputeId: cmd.disputeId,
          paymentId: p.paymentId,
          customerId: p.customerId,
          amount: s.amount,
          currency: s.currency,
          providerDisputeId: s.providerDisputeId,
          providerPaymentId: s.providerPaymentId,
          status: s.status,
          reason: s.reason,
          feeAmount: s.feeAmount,
          evidenceDueBy: s.evidenceDueBy,
          openedAt: s.createdAt,
        },
      },
    ]);
  }
  if (s.providerDisputeId !== state.providerDisputeId) return inconsistent(`dispute ${state.disputeId} is the processor's ${state.providerDisputeId}, not ${s.providerDisputeId}`);
  if (s.currency !== state.currency || s.amount !== state.amount) {
    return inconsistent(`dispute ${state.disputeId} is of ${state.amount} ${state.currency}; the processor now says ${s.amount} ${s.currency}`);
  }
  if (isTerminalDisputeStatus(state.status)) {
    if (isTerminalDisputeStatus(s.status) && s.status !== state.status) return inconsistent(`dispute ${state.disputeId} is ${state.status}; the processor now says ${s.status}`);
    return ok([]);
  }
  if (disputeStatusRank(s.status) < disputeStatusRank(state.status)) return ok([]);
  if (s.status === state.status && s.feeAmount === state.feeAmount && s.reason === state.reason && s.evidenceDueBy === state.evidenceDueBy) return ok([]);
  const changed = { ...disputeReferenceOf(state), reason: s.reason, feeAmount: s.feeAmount, evidenceDueBy: s.evidenceDueBy, previousStatus: state.status, previousFeeAmount: state.feeAmount };
  const status = s.status;
  return ok([isTerminalDisputeStatus(status) ? { type: 'DisputeClosed', data: { ...changed, status } } : { type: 'DisputeUpdated', data: { ...changed, status } }]);
}
