import { toCurrencyCode } from '../../src/domain/currency.js';
import type { DisputeSnapshot, DisputedPayment, DisputeStatus, SyncDispute } from '../../src/domain/dispute/index.js';
import { toDisputeId } from '../../src/domain/ids.js';
import { PAYMENT_ID } from './fixtures.js';

export const USD = toCurrencyCode('USD');
export const DISPUTE_ID = toDisputeId('dp_01JD0000000000000000000001');

export const payment = (overrides: Partial<DisputedPayment> = {}): DisputedPayment => ({
  paymentId: PAYMENT_ID,
  customerId: 'cus_1',
  currency: USD,
  amountCaptured: 10_000,
  amountRefunded: 0,
  ...overrides,
});

export const snapshot = (overrides: Partial<DisputeSnapshot> = {}): DisputeSnapshot => ({
  providerDisputeId: 'dp_sim_1',
  providerPaymentId: 'pi_sim_1',
  amount: 10_000,
  currency: USD,
  status: 'needs_response',
  reason: 'fraudulent',
  feeAmount: 1_500,
  evidenceDueBy: '2026-12-05T00:00:00.000Z',
  createdAt: '2026-11-28T00:00:00.000Z',
  ...overrides,
});

export const sync = (s: Partial<DisputeSnapshot> | DisputeStatus = {}, p: Partial<DisputedPayment> = {}): SyncDispute => ({
  type: 'SyncDispute',
  disputeId: DISPUTE_ID,
  snapshot: snapshot(typeof s === 'string' ? { status: s } : s),
  payment: payment(p),
});
