import { describe, expect, it } from 'vitest';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SimulatedDisputeEvidence, simulatedDisputeOf } from '../../src/infrastructure/simulated-provider/simulated-disputes.js';

const provider = new SimulatedPaymentProvider();
const request = (paymentMethod: string, idempotencyKey = 'k') => ({
  amount: 100, currency: toCurrencyCode('USD'), paymentMethod, captureMethod: 'manual' as const, customerId: 'c', description: null, metadata: {}, idempotencyKey,
});

describe('SimulatedPaymentProvider', () => {
  it('approves pm_card_visa with a stable provider id per idempotency key', async () => {
    const a = await provider.authorize(request('pm_card_visa'));
    const b = await provider.authorize(request('pm_card_visa'));
    const c = await provider.authorize(request('pm_card_visa', 'other'));
    expect(a.status).toBe('approved');
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', null],
  ])('declines %s with %s / %s', async (pm, failureCode, declineCode) => {
    expect(await provider.authorize(request(pm))).toMatchObject({ status: 'declined', failureCode, declineCode });
  });

  it('rejects an unknown payment method as an invalid request', async () => {
    expect(await provider.authorize(request('pm_card_made_up'))).toMatchObject({ status: 'invalid_request', param: 'paymentMethod' });
    expect(await provider.authorize(request('toString'))).toMatchObject({ status: 'invalid_request' });
  });
});

describe('SimulatedPaymentProvider refunds', () => {
  const refundOf = (providerPaymentId: string, idempotencyKey = 're_1') => provider.refund({ providerPaymentId, amount: 100, currency: 'USD', idempotencyKey });

  it('refunds a visa payment at once, the same refund for the same key', async () => {
    const auth = await provider.authorize(request('pm_card_visa'));
    if (auth.status !== 'approved') throw new Error('approved expected');
    const a = await refundOf(auth.providerPaymentId);
    expect(a.status).toBe('succeeded');
    expect(await refundOf(auth.providerPaymentId)).toEqual(a);
    expect((await refundOf(auth.providerPaymentId, 're_2')).providerRefundId).not.toBe(a.providerRefundId);
    expect(await provider.retrieveRefund(a.providerRefundId)).toEqual(a);
  });

  it('pm_card_refundFail approves the charge, then every refund is pending and fails asynchronously', async () => {
    const auth = await provider.authorize(request('pm_card_refundFail'));
    expect(auth.status).toBe('approved');
    if (auth.status !== 'approved') return;
    expect(await provider.capture({ providerPaymentId: auth.providerPaymentId, amount: 100 })).toEqual({ status: 'ok' });
    const refund = await refundOf(auth.providerPaymentId);
    expect(refund.status).toBe('pending');
    expect(await provider.retrieveRefund(refund.providerRefundId)).toEqual({
      status: 'failed',
      providerRefundId: refund.providerRefundId,
      failureReason: 'expired_or_canceled_card',
    });
  });
});

describe('SimulatedPaymentProvider disputes (pm_card_createDispute)', () => {
  it('approves and captures the charge; a refund of it is refused as Stripe refuses a disputed charge', async () => {
    const auth = await provider.authorize(request('pm_card_createDispute'));
    if (auth.status !== 'approved') throw new Error('approved expected');
    expect(auth.providerPaymentId).toMatch(/^pi_sim_dp_/);
    expect(await provider.capture({ providerPaymentId: auth.providerPaymentId, amount: 100 })).toEqual({ status: 'ok' });
    const refund = await provider.refund({ providerPaymentId: auth.providerPaymentId, amount: 100, currency: 'USD', idempotencyKey: 're_d' });
    expect(refund).toMatchObject({ status: 'failed', failureReason: 'charge_disputed' });
    expect(await provider.retrieveRefund(refund.providerRefundId)).toEqual(refund);
  });

  it('opens the same fraudulent dispute every time it is asked, and decides it on Stripe\'s test evidence', async () => {
    const capture = { providerPaymentId: 'pi_sim_dp_x', amount: 2_000, currency: toCurrencyCode('JPY'), capturedAt: '2026-11-28T10:00:00.000Z' };
    const dispute = simulatedDisputeOf(capture);
    expect(simulatedDisputeOf(capture)).toEqual(dispute);
    expect(dispute).toEqual({
      providerDisputeId: expect.stringMatching(/^dp_sim_[0-9a-f]{24}$/) as unknown,
      providerPaymentId: 'pi_sim_dp_x',
      amount: 2_000,
      currency: 'JPY',
      status: 'needs_response',
      reason: 'fraudulent',
      feeAmount: 1_500,
      evidenceDueBy: '2026-12-05T10:00:00.000Z',
      createdAt: '2026-11-28T10:00:00.000Z',
    });
    const evidence = new SimulatedDisputeEvidence();
    expect(await evidence.submitEvidence(dispute, ' winning_evidence ')).toMatchObject({ kind: 'submitted', snapshot: { status: 'won', feeAmount: 1_500 } });
    expect(await evidence.submitEvidence(dispute, 'losing_evidence')).toMatchObject({ snapshot: { status: 'lost' } });
    expect(await evidence.submitEvidence(dispute, 'receipt attached')).toMatchObject({ snapshot: { status: 'under_review' } });
    expect(await evidence.submitEvidence({ ...dispute, status: 'warning_needs_response' }, 'winning_evidence')).toMatchObject({ snapshot: { status: 'warning_closed' } });
    expect(await evidence.submitEvidence({ ...dispute, providerPaymentId: 'pi_3Stripe' }, 'winning_evidence')).toEqual({ kind: 'unsupported' });
  });
});
