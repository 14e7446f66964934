import type Stripe from 'stripe';
import type { DisputeStatus, ProviderDisputeSnapshot } from '../../application/ports/dispute-commands.js';
import type { ProviderPaymentView, ProviderRefundView } from '../../application/ports/payment-provider.js';
import { currencyExponent, isCurrencyCode } from '../../domain/currency.js';
import type { CurrencyCode } from '../../domain/currency.js';
import { stripeExponent } from './stripe-amounts.js';

/*
 * Stripe's objects as the port's snapshots: amounts from Stripe's minor units to ISO's
 * (the inverse of toStripeAmount), currencies upper-cased, times as ISO 8601. An object
 * we cannot represent (an unknown currency, a fraction of our minor unit) is an error: the
 * inbox parks the event that led here rather than guessing.
 */

export function fromStripeAmount(amount: number, stripeCurrency: string): { amount: number; currency: CurrencyCode } {
  const code = stripeCurrency.toUpperCase();
  if (!isCurrencyCode(code)) throw new Error(`Stripe sent an amount in ${stripeCurrency}, a currency Ledger does not know`);
  const ours = currencyExponent(code);
  const theirs = stripeExponent(code);
  let converted: bigint;
  if (ours >= theirs) {
    converted = BigInt(amount) * 10n ** BigInt(ours - theirs);
  } else {
    const divisor = 10n ** BigInt(theirs - ours);
    if (BigInt(amount) % divisor !== 0n) throw new Error(`Stripe's ${amount} ${code} is not a whole number of ISO minor units`);
    converted = BigInt(amount) / divisor;
  }
  return { amount: Number(converted), currency: code };
}

const PAYMENT_STATUSES: readonly string[] = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled'];

export function paymentViewOf(intent: Stripe.PaymentIntent): ProviderPaymentView {
  if (!PAYMENT_STATUSES.includes(intent.status)) throw new Error(`Stripe PaymentIntent ${intent.id} has a status Ledger does not know: ${intent.status}`);
  return {
    providerPaymentId: intent.id,
    status: intent.status,
    amountCapturable: fromStripeAmount(intent.amount_capturable, intent.currency).amount,
    amountReceived: fromStripeAmount(intent.amount_received, intent.currency).amount,
    cancellationReason: intent.cancellation_reason ?? null,
    metadata: { ...intent.metadata },
  };
}

const DISPUTE_STATUSES: readonly string[] = ['warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost'];

const idOf = (value: string | { id: string } | null | undefined): string | null => (value === null || value === undefined ? null : typeof value === 'string' ? value : value.id);

export function disputeSnapshotOf(dispute: Stripe.Dispute): ProviderDisputeSnapshot {
  if (!DISPUTE_STATUSES.includes(dispute.status)) throw new Error(`Stripe dispute ${dispute.id} has a status Ledger does not know: ${dispute.status}`);
  const providerPaymentId = idOf(dispute.payment_intent);
  if (providerPaymentId === null) throw new Error(`Stripe dispute ${dispute.id} names no PaymentIntent`);
  const { amount, currency } = fromStripeAmount(dispute.amount, dispute.currency);
  // Fees Stripe took for the dispute, net of any it gave back; only those in the payment's currency are comparable.
  let feeStripe = 0;
  for (const bt of dispute.balance_transactions) {
    if (bt.currency === dispute.currency) feeStripe += bt.fee;
  }
  const dueBy = dispute.evidence_details?.due_by ?? null;
  return {
    providerDisputeId: dispute.id,
    providerPaymentId,
    amount,
    currency,
    status: dispute.status as DisputeStatus,
    reason: dispute.reason,
    feeAmount: fromStripeAmount(feeStripe, dispute.currency).amount,
    evidenceDueBy: dueBy === null ? null : new Date(dueBy * 1000).toISOString(),
    createdAt: new Date(dispute.created * 1000).toISOString(),
  };
}

const REFUND_STATUSES: readonly string[] = ['pending', 'succeeded', 'failed', 'canceled', 'requires_action'];

export function refundViewOf(refund: Stripe.Refund): ProviderRefundView {
  const status = refund.status ?? 'pending';
  if (!REFUND_STATUSES.includes(status)) throw new Error(`Stripe refund ${refund.id} has a status Ledger does not know: ${status}`);
  const providerPaymentId = idOf(refund.payment_intent);
  if (providerPaymentId === null) throw new Error(`Stripe refund ${refund.id} names no PaymentIntent`);
  const { amount, currency } = fromStripeAmount(refund.amount, refund.currency);
  return {
    providerRefundId: refund.id,
    providerPaymentId,
    amount,
    currency,
    status: status as ProviderRefundView['status'],
    createdAt: new Date(refund.created * 1000).toISOString(),
    metadata: { ...(refund.metadata ?? {}) },
  };
}
