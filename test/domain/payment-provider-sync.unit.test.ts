import { describe, expect, it } from 'vitest';
import type { ExistingPayment, PaymentEvent } from '../../src/domain/payment/index.js';
import { fold } from '../../src/domain/payment/index.js';
import type { ProviderPaymentSnapshot } from '../../src/domain/payment/provider-sync.js';
import { syncWithProvider } from '../../src/domain/payment/provider-sync.js';
import { authorized, captured } from './fixtures.js';

/*
 * Given our payment and the processor's current view of it, the events that make them
 * agree. The property the webhook path rests on: applying the answer makes the next answer
 * "in sync", and an older view of the processor never moves a payment back.
 */

const payment = (...events: PaymentEvent[]): ExistingPayment => {
  const state = fold(events);
  if (!state.exists) throw new Error('no payment');
  return state;
};

const snapshot = (overrides: Partial<ProviderPaymentSnapshot>): ProviderPaymentSnapshot => ({
  providerPaymentId: 'pi_1',
  status: 'requires_capture',
  amountCapturable: 10_000,
  amountReceived: 0,
  cancellationReason: null,
  ...overrides,
});

/** The payment after `history` and the events the sync decided. */
const applied = (history: readonly PaymentEvent[], snap: ProviderPaymentSnapshot): ExistingPayment => {
  const decision = syncWithProvider(payment(...history), snap);
  if (decision.kind !== 'apply') throw new Error(`expected events, got ${decision.kind}`);
  return payment(...history, ...decision.events);
};

const canceled: PaymentEvent = { type: 'PaymentCanceled', data: { ...(captured(0, 0).data as object), amountReleased: 10_000, reason: null } } as PaymentEvent;

describe('syncWithProvider', () => {
  it('leaves a payment whose own request is still with the processor to that request (intent first): nothing is written', () => {
    const auth = authorized();
    const ref = { paymentId: auth.data.paymentId, customerId: auth.data.customerId, currency: auth.data.currency };
    const captureRequested: PaymentEvent = { type: 'PaymentCaptureRequested', data: { ...ref, amount: 10_000, providerKey: 'capture:k' } };
    expect(syncWithProvider(payment(auth, captureRequested), snapshot({ status: 'succeeded', amountCapturable: 0, amountReceived: 10_000 }))).toEqual({ kind: 'ours_pending', operation: 'capture' });
    const { providerPaymentId: _none, ...details } = auth.data as typeof auth.data & { providerPaymentId: string };
    const requested: PaymentEvent = { type: 'PaymentRequested', data: { ...details, providerKey: 'create:k' } } as PaymentEvent;
    expect(syncWithProvider(payment(requested), snapshot({ status: 'requires_capture' }))).toEqual({ kind: 'ours_pending', operation: 'create' });
  });

  it('a capture made elsewhere (partial) is a PaymentCaptured that releases the rest; after it, in sync', () => {
    const ours = payment(authorized());
    const view = snapshot({ status: 'succeeded', amountCapturable: 0, amountReceived: 6_000 });
    const decision = syncWithProvider(ours, view);
    expect(decision).toMatchObject({ kind: 'apply', events: [{ type: 'PaymentCaptured', data: { amount: 6_000, amountReleased: 4_000 } }] });
    const after = applied([authorized()], view);
    expect(after).toMatchObject({ status: 'succeeded', amountCaptured: 6_000, amountReleased: 4_000 });
    expect(syncWithProvider(after, view)).toEqual({ kind: 'in_sync' });
  });

  it('a cancel made elsewhere is a PaymentCanceled with the processor\'s reason; after it, in sync', () => {
    const ours = payment(authorized());
    const view = snapshot({ status: 'canceled', amountCapturable: 0, cancellationReason: 'requested_by_customer' });
    expect(syncWithProvider(ours, view)).toMatchObject({ kind: 'apply', events: [{ type: 'PaymentCanceled', data: { amountReleased: 10_000, reason: 'requested_by_customer' } }] });
    const after = applied([authorized()], view);
    expect(syncWithProvider(after, view)).toEqual({ kind: 'in_sync' });
    // A reason Stripe has and we do not (automatic, void_invoice…) is no reason rather than a wrong one.
    expect(syncWithProvider(ours, { ...view, cancellationReason: 'automatic' })).toMatchObject({ kind: 'apply', events: [{ data: { reason: null } }] });
  });

  it('an older view (still authorized) never moves a captured or canceled payment back', () => {
    const older = snapshot({ status: 'requires_capture' });
    expect(syncWithProvider(payment(authorized(), captured(10_000, 0)), older)).toEqual({ kind: 'in_sync' });
    expect(syncWithProvider(payment(authorized(), canceled), older)).toEqual({ kind: 'in_sync' });
  });

  it('agreement is in sync; a processor still working is not final', () => {
    expect(syncWithProvider(payment(authorized()), snapshot({}))).toEqual({ kind: 'in_sync' });
    expect(syncWithProvider(payment(authorized(), captured(10_000, 0)), snapshot({ status: 'succeeded', amountCapturable: 0, amountReceived: 10_000 }))).toEqual({ kind: 'in_sync' });
    expect(syncWithProvider(payment(authorized()), snapshot({ status: 'processing' }))).toEqual({ kind: 'not_final', providerStatus: 'processing' });
  });

  it('contradictions are diverged, never forced: another intent, another captured amount, more than was capturable', () => {
    expect(syncWithProvider(payment(authorized()), snapshot({ providerPaymentId: 'pi_2' }))).toMatchObject({ kind: 'diverged' });
    expect(syncWithProvider(payment(authorized(), captured(5_000, 5_000)), snapshot({ status: 'succeeded', amountCapturable: 0, amountReceived: 7_000 }))).toMatchObject({ kind: 'diverged' });
    expect(syncWithProvider(payment(authorized()), snapshot({ status: 'succeeded', amountCapturable: 0, amountReceived: 12_000 }))).toMatchObject({ kind: 'diverged' });
    expect(syncWithProvider(payment(authorized(), captured(10_000, 0)), snapshot({ status: 'canceled', amountCapturable: 0 }))).toMatchObject({ kind: 'diverged' });
  });
});
