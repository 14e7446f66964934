import type { RefundId } from '../../domain/ids.js';
import { isPaymentId, paymentStream, refundStream } from '../../domain/ids.js';
import type { PaymentEvent } from '../../domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION, decide, evolve } from '../../domain/payment/index.js';
import type { RefundEvent } from '../../domain/refund/index.js';
import { CURRENT_REFUND_SCHEMA_VERSION, decideRefund, evolveRefund, initialRefundState } from '../../domain/refund/index.js';
import { loadPayment } from '../payments/payment-stream.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore, NewEvent } from '../ports/event-store.js';
import { WrongExpectedVersion } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { PaymentProvider } from '../ports/payment-provider.js';
import { loadRefund } from '../refunds/refund-stream.js';
import type { HandledEvent } from './provider-event-handler.js';
import { ParkEvent } from './provider-event-handler.js';

/*
 * A refund made at Stripe without us (the dashboard) is imported once it has succeeded, so
 * our payment, ledger and reports count the money that went back. Two writes, in this order:
 *
 * 1. the refund's own stream, created final at once (RefundRequested + RefundSucceeded):
 *    the refund process manager, which works from the payment's reservation, then finds a
 *    final refund and never asks Stripe to make one (with our refund id as its idempotency
 *    key it would make a second, real refund);
 * 2. the payment's reservation and its settlement, in one append.
 *
 * Ids derive from Stripe's refund id (ours: `re_…` from it; events: uuids from it), so a
 * repeat, a re-run after a crash between the two writes, or two instances racing all come
 * to the same two writes. A refund still pending, or failed, at Stripe moved no money: it is
 * recorded and left, and its later refund.updated imports it once it succeeds.
 */

/** Loads and appends on a payment other writers keep changing. */
export const REFUND_IMPORT_MAX_ATTEMPTS = 5;

const ACTOR = 'stripe-webhook';

export interface RefundImportDeps {
  readonly store: EventStore;
  readonly provider: PaymentProvider;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

const processed = (outcome: string): HandledEvent => ({ status: 'processed', outcome });
const ignored = (outcome: string): HandledEvent => ({ status: 'ignored', outcome });

export async function importProviderRefund(deps: RefundImportDeps, stripeEventId: string, providerRefundId: string): Promise<HandledEvent> {
  const lookup = await deps.provider.retrieveRefundDetails(providerRefundId);
  if (lookup.status === 'not_found') return ignored(`unknown object: refund ${providerRefundId} does not exist at Stripe`);
  const refund = lookup.value;
  const intent = await deps.provider.retrievePayment(refund.providerPaymentId);
  const paymentId = intent.status === 'found' ? intent.value.metadata.paymentId : undefined;
  if (paymentId === undefined || !isPaymentId(paymentId)) return ignored(`unknown object: refund ${providerRefundId} is on ${refund.providerPaymentId}, which was not made by Ledger`);
  if (refund.status !== 'succeeded') {
    return ignored(`refund ${providerRefundId} on payment ${paymentId} was made outside Ledger and is ${refund.status} at Stripe: nothing moved; imported once it succeeds`);
  }
  const refundId = deps.ids.deterministic('re_', `stripe-refund\u0000${providerRefundId}`, new Date(refund.createdAt)) as RefundId;
  const idOf = (step: string) => (i: number) => deps.ids.uuidFrom(`stripe-refund-import\u0000${providerRefundId}\u0000${step}\u0000${i}`);
  const metadata = { stripeRefundId: providerRefundId, source: 'stripe' };
  const occurredAt = deps.clock.now().toISOString();
  const newEvents = (events: readonly (PaymentEvent | RefundEvent)[], ids: (i: number) => string, schemaVersion: number): NewEvent[] =>
    events.map((e, i) => ({
      id: ids(i),
      type: e.type,
      data: e.data,
      metadata: { correlationId: `stripe:${stripeEventId}`, causationId: null, actor: ACTOR, occurredAt, schemaVersion },
    }));

  for (let attempt = 1; attempt <= REFUND_IMPORT_MAX_ATTEMPTS; attempt++) {
    const payment = await loadPayment(deps.store, paymentStream(paymentId));
    if (!payment.state.exists || payment.revision === undefined) return ignored(`unknown object: refund ${providerRefundId} names payment ${paymentId}, which Ledger does not have`);
    const p = payment.state;
    const existing = Object.hasOwn(p.refundReservations, refundId) ? p.refundReservations[refundId] : undefined;
    if (existing?.status === 'settled') return processed(`refund ${providerRefundId} made outside Ledger: already imported as ${refundId}`);
    if (existing !== undefined) throw new ParkEvent(`refund ${providerRefundId} was imported as ${refundId}, whose reservation is ${existing.status}`);
    if (refund.currency !== p.currency) throw new ParkEvent(`refund ${providerRefundId} is in ${refund.currency}, payment ${paymentId} in ${p.currency}`);
    const reserve = decide(p, { type: 'ReserveRefund', paymentId, refundId, amount: refund.amount, reason: null, metadata });
    if (!reserve.ok) throw new ParkEvent(`refund ${providerRefundId} (${refund.amount}) made outside Ledger cannot be imported on payment ${paymentId}: ${reserve.error.code}`);
    const reserved = reserve.value.reduce(evolve, p);
    const settle = decide(reserved, { type: 'SettleRefund', paymentId, refundId });
    if (!settle.ok) throw new Error(`settling imported refund ${refundId}: ${settle.error.code}`);

    // 1. The refund, final from its first write (see above for why first).
    const ours = await loadRefund(deps.store, refundStream(refundId));
    if (!ours.state.exists) {
      const request = { refundId, paymentId, customerId: p.customerId, amount: refund.amount, currency: p.currency, reason: null, metadata };
      const requested = decideRefund(initialRefundState, { type: 'RequestRefund', request });
      if (!requested.ok) throw new Error(`importing refund ${providerRefundId}: ${requested.error.code}`);
      const succeeded = decideRefund(requested.value.reduce(evolveRefund, initialRefundState), { type: 'RecordRefundOutcome', refundId, outcome: { status: 'succeeded', providerRefundId } });
      if (!succeeded.ok) throw new Error(`importing refund ${providerRefundId}: ${succeeded.error.code}`);
      try {
        await deps.store.append(refundStream(refundId), newEvents([...requested.value, ...succeeded.value], idOf('refund'), CURRENT_REFUND_SCHEMA_VERSION), 'no_stream');
      } catch (error) {
        if (!(error instanceof WrongExpectedVersion)) throw error;
      }
    }
    // 2. The payment: reserve and settle together.
    try {
      await deps.store.append(paymentStream(paymentId), newEvents([...reserve.value, ...settle.value], idOf('payment'), CURRENT_SCHEMA_VERSION), payment.revision);
    } catch (error) {
      if (error instanceof WrongExpectedVersion) continue;
      throw error;
    }
    return processed(`refund ${providerRefundId} made outside Ledger imported as ${refundId}: ${refund.amount} settled on payment ${paymentId}`);
  }
  throw new Error(`payment ${paymentId} kept changing while importing refund ${providerRefundId} (${REFUND_IMPORT_MAX_ATTEMPTS} attempts)`);
}
