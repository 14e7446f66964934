import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '../../src/application/ports/event-store.js';
import type { PaymentAuthorized, PaymentCaptured } from '../../src/domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/domain/payment/upcast.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { paymentStream, toPaymentId, toRefundId, type PaymentId, type RefundId } from '../../src/domain/ids.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';

/*
 * Events shaped as the command handlers write them (src/application/payments/
 * payment-command-handlers.ts): a create with automatic capture appends PaymentAuthorized
 * and PaymentCaptured in one append, with the same metadata on both.
 */

const ids = new SystemIdGenerator();

export const newPaymentId = (): PaymentId => toPaymentId(ids.next('pay_'));
const USD = toCurrencyCode('USD');

export function metadata(occurredAt = new Date().toISOString()): EventMetadata {
  return {
    correlationId: randomUUID(),
    causationId: null,
    actor: 'api',
    occurredAt,
    schemaVersion: CURRENT_SCHEMA_VERSION,
  };
}

export function authorizedData(paymentId: PaymentId, customerId: string, amount: number): PaymentAuthorized['data'] {
  return {
    paymentId,
    customerId,
    amount,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    captureMethod: 'automatic',
    providerPaymentId: `pi_sim_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    description: 'Order #' + String(amount * 7),
    metadata: { orderId: `ord_${amount}`, channel: 'web' },
  };
}

export function capturedData(paymentId: PaymentId, customerId: string, amount: number): PaymentCaptured['data'] {
  return { paymentId, customerId, amount, currency: USD, amountReleased: 0 };
}

/** The two events of one created-and-captured payment, as one append would carry them. */
export function paymentCreatedEvents(paymentId: PaymentId, customerId: string, amount: number): NewEvent[] {
  const meta = metadata();
  return [
    { id: randomUUID(), type: 'PaymentAuthorized', data: authorizedData(paymentId, customerId, amount), metadata: meta },
    { id: randomUUID(), type: 'PaymentCaptured', data: capturedData(paymentId, customerId, amount), metadata: meta },
  ];
}

/** One realistic single event (a PaymentAuthorized, ~400 bytes of JSON with its metadata). */
export function sampleEvent(i: number): NewEvent {
  const paymentId = newPaymentId();
  return { id: randomUUID(), type: 'PaymentAuthorized', data: authorizedData(paymentId, `cus_${i % 1000}`, 100 + (i % 99_900)), metadata: metadata() };
}

export { paymentStream };

export const newRefundId = (): RefundId => toRefundId(ids.next('re_'));

/**
 * A refund of `amount` of a captured USD payment, as the refund contract records it
 * (src/domain/payment/refund-events.ts, src/domain/refund/events.ts): the reservation on the
 * payment, the refund requested, the processor's answer, and the settlement or release.
 * The four events are returned in that order; the bench appends them on the payment's stream.
 */
export function refundEvents(paymentId: PaymentId, customerId: string, amount: number, outcome: 'succeeded' | 'failed'): NewEvent[] {
  const meta = metadata();
  const refundId = newRefundId();
  const ref = { paymentId, customerId, currency: USD, refundId, amount };
  const event = (type: string, data: unknown): NewEvent => ({ id: randomUUID(), type, data, metadata: meta });
  return [
    event('PaymentRefundReserved', { ...ref, reason: 'requested_by_customer', metadata: {} }),
    event('RefundRequested', { ...ref, reason: 'requested_by_customer', metadata: {} }),
    outcome === 'succeeded'
      ? event('RefundSucceeded', { ...ref, providerRefundId: `re_sim_${refundId}` })
      : event('RefundFailed', { ...ref, providerRefundId: null, failureReason: 'expired_or_canceled_card' }),
    outcome === 'succeeded' ? event('PaymentRefundSettled', ref) : event('PaymentRefundReleased', { ...ref, outcome: 'failed' }),
  ];
}
