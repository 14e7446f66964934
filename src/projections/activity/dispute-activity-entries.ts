import type { ActivityEntry, ActivityType } from '../../application/ports/activity-feed.js';
import type { DisputeEvent } from '../../domain/dispute/index.js';
import { disputeHoldsFunds } from '../../domain/dispute/index.js';
import { formatMinor } from './money-text.js';

/*
 * Dispute facts as timeline entries (issue 10). Pure, from the event alone, like the payment
 * and refund entries. An update that changes only the deadline or the reason has no entry
 * (the processor's bookkeeping); a status change or a fee change has one.
 */

export type DisputeEntryFields = Omit<ActivityEntry, 'id' | 'occurredAt' | 'position' | 'type'>;

export interface DisputeActivity {
  readonly customerId: string;
  readonly type: ActivityType;
  readonly fields: DisputeEntryFields;
}

const STATUS_TEXT: Readonly<Record<string, string>> = {
  warning_needs_response: 'inquiry awaiting a response',
  warning_under_review: 'inquiry under review',
  warning_closed: 'inquiry closed',
  needs_response: 'awaiting a response',
  under_review: 'under review',
  won: 'won',
  lost: 'lost',
};

export function disputeEntry(event: DisputeEvent): DisputeActivity | undefined {
  const d = event.data;
  const shown = formatMinor(d.amount, d.currency);
  const fields = { paymentId: d.paymentId, disputeId: d.disputeId, amount: d.amount, currency: d.currency };
  const make = (type: ActivityType, summary: string): DisputeActivity => ({ customerId: d.customerId, type, fields: { ...fields, summary } });
  const withheld = (status: string) => (disputeHoldsFunds(status as never) ? `, ${shown} withheld` : '');
  switch (event.type) {
    case 'DisputeOpened':
      return make('dispute.opened', `Payment disputed (${d.reason}): ${shown}, ${STATUS_TEXT[d.status] ?? d.status}${withheld(d.status)}`);
    case 'DisputeUpdated': {
      const p = event.data;
      if (p.status !== p.previousStatus) return make('dispute.updated', `Dispute of ${shown} ${STATUS_TEXT[p.status] ?? p.status}${disputeHoldsFunds(p.previousStatus) ? '' : withheld(p.status)}`);
      if (p.feeAmount !== p.previousFeeAmount) return make('dispute.updated', `Dispute fee now ${formatMinor(p.feeAmount, d.currency)}`);
      return undefined;
    }
    case 'DisputeClosed':
      if (event.data.status === 'won') return make('dispute.won', `Dispute won: ${shown} reinstated`);
      if (event.data.status === 'lost') return make('dispute.lost', `Dispute lost: ${shown} charged back`);
      return make('dispute.closed', 'Dispute inquiry closed');
  }
}
