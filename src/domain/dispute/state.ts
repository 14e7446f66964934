import type { DisputeClosedStatus, DisputeDetails, DisputeReference, DisputeStatus } from './events.js';

/** Once here, a dispute never moves again. */
export const DISPUTE_TERMINAL_STATUSES: readonly DisputeClosedStatus[] = ['won', 'lost', 'warning_closed'];

export const isTerminalDisputeStatus = (status: DisputeStatus): status is DisputeClosedStatus =>
  (DISPUTE_TERMINAL_STATUSES as readonly string[]).includes(status);

/**
 * How far along a status is. A processor's statuses only ever move up this order (an
 * inquiry may become a chargeback, never the reverse), so a snapshot of a lower rank is an
 * older view delivered late. The terminal statuses share the top rank.
 */
const RANK: Readonly<Record<DisputeStatus, number>> = {
  warning_needs_response: 0,
  warning_under_review: 1,
  needs_response: 2,
  under_review: 3,
  warning_closed: 4,
  won: 4,
  lost: 4,
};

export const disputeStatusRank = (status: DisputeStatus): number => RANK[status];

/**
 * The processor holds the disputed amount back from us: a chargeback still open. An
 * inquiry (`warning_*`) takes no money; a won dispute gave it back; a lost one kept it.
 */
export const disputeHoldsFunds = (status: DisputeStatus): boolean => status === 'needs_response' || status === 'under_review';

/** Evidence is still wanted. */
export const disputeAcceptsEvidence = (status: DisputeStatus): boolean => status === 'needs_response' || status === 'warning_needs_response';

export interface ExistingDispute extends DisputeReference, DisputeDetails {
  readonly exists: true;
  readonly providerPaymentId: string;
  readonly status: DisputeStatus;
  readonly openedAt: string;
}

export type DisputeState = { readonly exists: false } | ExistingDispute;

export const initialDisputeState: DisputeState = { exists: false };
