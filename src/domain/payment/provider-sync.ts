import type { CancellationReason, PaymentEvent } from './events.js';
import { referenceOf } from './events.js';
import type { ExistingPayment } from './state.js';

/*
 * Bringing a payment in line with what the processor says about it *now*. Webhooks arrive
 * late, twice and out of order, so the inbound path never applies an event's delta: it
 * refetches the processor's object and asks this function which of our existing events
 * close the gap. Given the same payment and the same snapshot it answers the same thing,
 * and once applied it answers "in sync": any order, any number of times, one effect.
 */

/** The processor's statuses, as Stripe spells a PaymentIntent's. */
export type ProviderPaymentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'succeeded'
  | 'canceled';

/** The processor's current view of one payment, in our minor units. */
export interface ProviderPaymentSnapshot {
  readonly providerPaymentId: string;
  readonly status: ProviderPaymentStatus;
  /** Authorized and not yet captured. */
  readonly amountCapturable: number;
  /** Captured (before refunds). */
  readonly amountReceived: number;
  /** The processor's cancellation reason, when canceled. */
  readonly cancellationReason: string | null;
}

export type ProviderSyncDecision =
  /** We already say what the processor says (a duplicate, or a late event whose change we made ourselves). */
  | { readonly kind: 'in_sync' }
  /** The processor has not reached a state we record yet (processing, requires_action): a later event will tell. */
  | { readonly kind: 'not_final'; readonly providerStatus: ProviderPaymentStatus }
  /** These events make our payment agree (a capture or a cancel done in the dashboard, or whose answer we lost). */
  | { readonly kind: 'apply'; readonly events: readonly PaymentEvent[] }
  /**
   * Our own request (create, capture or cancel) is still with the processor: its outcome is
   * ours to record — by the command, a same-key retry or the intent completer, under ids
   * derived from the request — so the sync writes nothing now and looks again later.
   */
  | { readonly kind: 'ours_pending'; readonly operation: 'create' | 'capture' | 'cancel' }
  /** The two disagree in a way no event of ours can mend: shown to an operator, never forced. */
  | { readonly kind: 'diverged'; readonly message: string };

const CANCELLATION_REASONS: readonly string[] = ['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned'];
const cancellationReasonOf = (reason: string | null): CancellationReason | null =>
  reason !== null && CANCELLATION_REASONS.includes(reason) ? (reason as CancellationReason) : null;

/** What a capture or a cancel left on the processor's side and ours must say the same. */
function capturedMatches(payment: ExistingPayment, snapshot: ProviderPaymentSnapshot): boolean {
  return payment.amountCaptured === snapshot.amountReceived;
}

export function syncWithProvider(payment: ExistingPayment, snapshot: ProviderPaymentSnapshot): ProviderSyncDecision {
  // Recording the processor's answer here would race the intent's own completion (which
  // writes it under the request's derived ids); and a pending create has no processor id yet.
  if (payment.pendingOperation !== null) return { kind: 'ours_pending', operation: payment.pendingOperation.operation };
  if (payment.providerPaymentId !== snapshot.providerPaymentId) {
    return { kind: 'diverged', message: `payment ${payment.paymentId} is ${payment.providerPaymentId ?? 'not at the processor'}, the snapshot is of ${snapshot.providerPaymentId}` };
  }
  const ours = payment.status;
  switch (snapshot.status) {
    case 'requires_capture': {
      if (ours === 'requires_capture') {
        return snapshot.amountCapturable === payment.amountCapturable
          ? { kind: 'in_sync' }
          : { kind: 'diverged', message: `the processor can capture ${snapshot.amountCapturable}, we hold ${payment.amountCapturable} capturable` };
      }
      // We captured or canceled and the processor's answer to that is still on its way: an older view.
      if (ours === 'succeeded' || ours === 'partially_refunded' || ours === 'refunded' || ours === 'canceled') return { kind: 'in_sync' };
      return { kind: 'diverged', message: `the processor holds an authorization, our payment is ${ours}` };
    }
    case 'succeeded': {
      if (ours === 'requires_capture') {
        if (snapshot.amountReceived <= 0 || snapshot.amountReceived > payment.amountCapturable) {
          return { kind: 'diverged', message: `the processor captured ${snapshot.amountReceived}, we hold ${payment.amountCapturable} capturable` };
        }
        return {
          kind: 'apply',
          events: [
            {
              type: 'PaymentCaptured',
              data: { ...referenceOf(payment), amount: snapshot.amountReceived, amountReleased: payment.amountCapturable - snapshot.amountReceived },
            },
          ],
        };
      }
      if (ours === 'succeeded' || ours === 'partially_refunded' || ours === 'refunded') {
        return capturedMatches(payment, snapshot)
          ? { kind: 'in_sync' }
          : { kind: 'diverged', message: `the processor captured ${snapshot.amountReceived}, we captured ${payment.amountCaptured}` };
      }
      return { kind: 'diverged', message: `the processor captured ${snapshot.amountReceived}, our payment is ${ours}` };
    }
    case 'canceled': {
      if (ours === 'canceled') return { kind: 'in_sync' };
      if (ours === 'requires_capture') {
        return {
          kind: 'apply',
          events: [
            {
              type: 'PaymentCanceled',
              data: { ...referenceOf(payment), amountReleased: payment.amountCapturable, reason: cancellationReasonOf(snapshot.cancellationReason) },
            },
          ],
        };
      }
      // A declined payment's intent is canceled later (Stripe abandons it): nothing changes for us.
      if (ours === 'failed') return { kind: 'in_sync' };
      return { kind: 'diverged', message: `the processor canceled the payment, ours is ${ours}` };
    }
    case 'requires_payment_method':
      // A failed attempt: the processor is waiting for another card. Ours failed at create, or never saw one.
      return ours === 'failed' ? { kind: 'in_sync' } : { kind: 'not_final', providerStatus: snapshot.status };
    case 'requires_confirmation':
    case 'requires_action':
    case 'processing':
      return { kind: 'not_final', providerStatus: snapshot.status };
  }
}
