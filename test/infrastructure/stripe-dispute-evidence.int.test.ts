import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderDisputeSnapshot } from '../../src/application/ports/dispute-commands.js';
import { ProviderUnavailable } from '../../src/application/ports/payment-provider.js';
import { StripeDisputeEvidence } from '../../src/infrastructure/stripe/stripe-dispute-evidence.js';
import { disputeSnapshotOf } from '../../src/infrastructure/stripe/stripe-snapshots.js';
import type { FakeDispute } from '../support/fake-stripe/fake-stripe-server.js';
import { FakeStripeServer } from '../support/fake-stripe/fake-stripe-server.js';

/*
 * Dispute evidence through the real Stripe SDK against the fake Stripe: what goes on the
 * wire (evidence[uncategorized_text], submit, the idempotency key), the statuses Stripe
 * answers with, test mode's decided outcome afterwards, and a refusal for a closed dispute.
 */

const KEY = 'sk_test_evidence123';
const fake = new FakeStripeServer();
let address: { host: string; port: number; protocol: 'http' };

beforeAll(async () => {
  address = await fake.start();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.failNext(0);
});

const adapter = (maxRetries = 2) => new StripeDisputeEvidence({ secretKey: KEY, ...address, timeoutMs: 5_000, retry: { maxRetries, initialDelayMs: 1, maxDelayMs: 2, sleep: () => Promise.resolve() } });

let intents = 0;
async function disputed(status: 'needs_response' | 'warning_needs_response' = 'needs_response'): Promise<{ dispute: FakeDispute; snapshot: ProviderDisputeSnapshot }> {
  const stripe = new Stripe(KEY, { ...address, maxNetworkRetries: 0, telemetry: false });
  const intent = await stripe.paymentIntents.create({ amount: 4_200, currency: 'eur', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: `setup:${++intents}` });
  const dispute = fake.createDispute(intent.id, { status });
  fake.requests.length = 0;
  return { dispute, snapshot: disputeSnapshotOf(structuredClone(dispute) as unknown as Stripe.Dispute) };
}

describe('StripeDisputeEvidence against a fake Stripe, through the SDK', () => {
  it('submits the text as uncategorized_text with submit=true under our key; the dispute is under review, then won in test mode', async () => {
    const { dispute, snapshot } = await disputed();
    const answer = await adapter().submitEvidence(snapshot, 'winning_evidence', 'evidence:dp_1:k1');
    expect(answer).toEqual({ kind: 'submitted', snapshot: { ...snapshot, status: 'under_review' } });
    const [sent] = fake.requestsTo('POST', `/v1/disputes/${dispute.id}`);
    expect(sent).toMatchObject({ idempotencyKey: 'evidence:dp_1:k1', params: { evidence: { uncategorized_text: 'winning_evidence' }, submit: 'true' }, status: 200 });
    expect(fake.disputes.get(dispute.id)).toMatchObject({ evidence: { uncategorized_text: 'winning_evidence' }, evidence_details: { has_evidence: true, submission_count: 1 } });
    // Stripe decides the test-mode dispute after its answer; charge.dispute.closed carries it.
    expect(fake.decideSubmittedDispute(dispute.id).status).toBe('won');
  });

  it('losing_evidence loses; an inquiry goes to warning_under_review', async () => {
    const lost = await disputed();
    await adapter().submitEvidence(lost.snapshot, 'losing_evidence', 'evidence:dp_2:k');
    expect(fake.decideSubmittedDispute(lost.dispute.id).status).toBe('lost');
    const inquiry = await disputed('warning_needs_response');
    expect(await adapter().submitEvidence(inquiry.snapshot, 'our receipt', 'evidence:dp_3:k')).toMatchObject({ kind: 'submitted', snapshot: { status: 'warning_under_review' } });
    expect(fake.decideSubmittedDispute(inquiry.dispute.id).status).toBe('warning_under_review');
  });

  it('the same key is the same submission: Stripe replays its answer, nothing is submitted twice', async () => {
    const { dispute, snapshot } = await disputed();
    const first = await adapter().submitEvidence(snapshot, 'the receipt', 'evidence:dp_4:k');
    const again = await adapter().submitEvidence(snapshot, 'the receipt', 'evidence:dp_4:k');
    expect(again).toEqual(first);
    expect(fake.requestsTo('POST', `/v1/disputes/${dispute.id}`).map((r) => r.replayed)).toEqual([false, true]);
    expect(fake.disputes.get(dispute.id)?.evidence_details.submission_count).toBe(1);
  });

  it('a 500 is retried with the same key; past the bound it is provider_unavailable', async () => {
    const { dispute, snapshot } = await disputed();
    fake.failNext(1);
    expect(await adapter().submitEvidence(snapshot, 'x', 'evidence:dp_5:k')).toMatchObject({ kind: 'submitted' });
    expect(fake.requestsTo('POST', `/v1/disputes/${dispute.id}`).map((r) => [r.status, r.idempotencyKey])).toEqual([[500, 'evidence:dp_5:k'], [200, 'evidence:dp_5:k']]);
    const other = await disputed();
    fake.failNext(3);
    await expect(adapter(2).submitEvidence(other.snapshot, 'x', 'evidence:dp_6:k')).rejects.toBeInstanceOf(ProviderUnavailable);
  });

  it('a dispute Stripe has closed refuses with a 400: the answer is not_accepting with Stripe\'s view', async () => {
    const { dispute, snapshot } = await disputed();
    fake.updateDispute(dispute.id, { status: 'lost' });
    expect(await adapter().submitEvidence(snapshot, 'too late', 'evidence:dp_7:k')).toEqual({ kind: 'not_accepting', snapshot: { ...snapshot, status: 'lost' } });
    expect(fake.requestsTo('POST', `/v1/disputes/${dispute.id}`)[0]?.status).toBe(400);
    expect(fake.disputes.get(dispute.id)?.evidence.uncategorized_text).toBeNull();
  });

  it('another refusal (a key reused for other evidence: Stripe\'s idempotency error) propagates and changes nothing', async () => {
    const first = await disputed();
    await adapter().submitEvidence(first.snapshot, 'a', 'evidence:dp_8:k');
    const { dispute, snapshot } = await disputed();
    await expect(adapter().submitEvidence(snapshot, 'b', 'evidence:dp_8:k')).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(fake.disputes.get(dispute.id)).toMatchObject({ status: 'needs_response', evidence: { uncategorized_text: null } });
  });
});
