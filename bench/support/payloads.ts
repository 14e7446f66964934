import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '../../src/application/ports/event-store.js';
import type { PaymentAuthorized, PaymentCaptured } from '../../src/domain/payment/index.js';
import { CURRENT_SCHEMA_VERSION } from '../../src/domain/payment/upcast.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { paymentStream, toPaymentId, type PaymentId } from '../../src/domain/ids.js';
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
