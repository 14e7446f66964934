import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { streamRevision } from '../../src/application/ports/event-store.js';
import { position } from '../../src/application/ports/position.js';
import { ActivityEntrySchema } from '../../src/infrastructure/http/schemas.js';
import { activityWireForm } from '../../src/infrastructure/http/wire-form.js';
import { ACTIVITY_EVENT_TYPES, activityRecordOf } from '../../src/projections/activity/activity-entries.js';

const ref = {
  disputeId: 'dp_01JD0000000000000000000001',
  paymentId: 'pay_01JD0000000000000000000000',
  customerId: 'cus_1',
  amount: 5_000,
  currency: 'USD',
  providerDisputeId: 'dp_sim_1',
  reason: 'fraudulent',
  evidenceDueBy: null,
  feeAmount: 1_500,
};

const recorded = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: '00000000-0000-4000-8000-00000000000a',
  type,
  streamId: 'dispute-x',
  revision: streamRevision(0),
  position: position(9n, 4n),
  data,
  metadata: { correlationId: 'c', causationId: null, actor: 't', occurredAt: '2026-11-28T00:00:00.000Z', schemaVersion: 1 },
  recordedAt: new Date(0),
});

const moved = (type: string, previousStatus: string, status: string, previousFeeAmount = 1_500, feeAmount = 1_500) =>
  activityRecordOf(recorded(type, { ...ref, previousStatus, status, previousFeeAmount, feeAmount }));

describe('dispute activity entries', () => {
  it('every dispute fact is on the customer\'s timeline, in a shape the API sends as it is', () => {
    expect(ACTIVITY_EVENT_TYPES).toEqual(expect.arrayContaining(['DisputeOpened', 'DisputeUpdated', 'DisputeClosed']));
    const opened = activityRecordOf(recorded('DisputeOpened', { ...ref, status: 'needs_response', providerPaymentId: 'pi_1', openedAt: '2026-11-28T00:00:00.000Z' }));
    expect(opened).toEqual({
      customerId: 'cus_1',
      entry: {
        id: '00000000-0000-4000-8000-00000000000a',
        occurredAt: '2026-11-28T00:00:00.000Z',
        position: '9.4',
        type: 'dispute.opened',
        paymentId: ref.paymentId,
        disputeId: ref.disputeId,
        amount: 5_000,
        currency: 'USD',
        summary: 'Payment disputed (fraudulent): 50.00 USD, awaiting a response, 50.00 USD withheld',
      },
    });
    expect(ActivityEntrySchema.parse(opened!.entry)).toEqual(opened!.entry);
    expect(activityWireForm(opened!.entry)).toEqual(opened!.entry);
  });

  it('names the outcome, the escalation and a fee change; a deadline-only update has no entry', () => {
    expect(moved('DisputeClosed', 'under_review', 'won')?.entry).toMatchObject({ type: 'dispute.won', summary: 'Dispute won: 50.00 USD reinstated' });
    expect(moved('DisputeClosed', 'under_review', 'lost')?.entry).toMatchObject({ type: 'dispute.lost', summary: 'Dispute lost: 50.00 USD charged back' });
    expect(moved('DisputeClosed', 'warning_under_review', 'warning_closed', 0, 0)?.entry).toMatchObject({ type: 'dispute.closed' });
    expect(moved('DisputeUpdated', 'warning_needs_response', 'needs_response', 0)?.entry.summary).toBe('Dispute of 50.00 USD awaiting a response, 50.00 USD withheld');
    expect(moved('DisputeUpdated', 'needs_response', 'under_review')?.entry.summary).toBe('Dispute of 50.00 USD under review');
    expect(moved('DisputeUpdated', 'needs_response', 'needs_response', 1_500, 0)?.entry.summary).toBe('Dispute fee now 0.00 USD');
    expect(moved('DisputeUpdated', 'needs_response', 'needs_response')).toBeUndefined();
  });
});
