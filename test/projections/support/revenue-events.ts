import { randomUUID } from 'node:crypto';
import type { NewEvent, RecordedEvent } from '../../../src/application/ports/event-store.js';
import { streamRevision } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';
import { position } from '../../../src/application/ports/position.js';

/*
 * Capture and refund events built by hand, as the contract states them
 * (src/domain/payment/events.ts, src/domain/refund/events.ts): reports consume them by
 * type, whatever code writes them.
 */

const BODY = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A well-formed id body (Crockford base32, 26 characters) from a number: distinct numbers, distinct ids. */
export function idBody(n: number): string {
  let out = '';
  let rest = n;
  do {
    out = (BODY[rest % 32] as string) + out;
    rest = Math.floor(rest / 32);
  } while (rest > 0);
  return out.padStart(26, '0');
}

export const paymentIdOf = (n: number): string => `pay_${idBody(n)}`;
export const refundIdOf = (n: number): string => `re_${idBody(n)}`;

export interface CaptureSpec {
  readonly payment: number;
  readonly amount: number;
  readonly currency: string;
  readonly occurredAt: string;
}

export interface RefundSpec extends CaptureSpec {
  readonly refund: number;
}

const metadata = (occurredAt: string) => ({ correlationId: 'test', causationId: null, actor: 'test', occurredAt, schemaVersion: 1 });

export const authorizedEvent = ({ payment, amount, currency, occurredAt }: CaptureSpec): NewEvent => ({
  id: randomUUID(),
  type: 'PaymentAuthorized',
  data: {
    paymentId: paymentIdOf(payment),
    customerId: 'cus_reports',
    amount,
    currency,
    paymentMethod: 'pm_card_visa',
    captureMethod: 'manual',
    description: null,
    metadata: {},
    providerPaymentId: `pi_${payment}`,
  },
  metadata: metadata(occurredAt),
});

export const capturedEvent = ({ payment, amount, currency, occurredAt }: CaptureSpec): NewEvent => ({
  id: randomUUID(),
  type: 'PaymentCaptured',
  data: { paymentId: paymentIdOf(payment), customerId: 'cus_reports', currency, amount, amountReleased: 0 },
  metadata: metadata(occurredAt),
});

const refundData = ({ refund, payment, amount, currency }: RefundSpec) => ({
  refundId: refundIdOf(refund),
  paymentId: paymentIdOf(payment),
  customerId: 'cus_reports',
  amount,
  currency,
});

export const refundRequestedEvent = (spec: RefundSpec): NewEvent => ({
  id: randomUUID(),
  type: 'RefundRequested',
  data: { ...refundData(spec), reason: null, metadata: {} },
  metadata: metadata(spec.occurredAt),
});

export const refundSucceededEvent = (spec: RefundSpec): NewEvent => ({
  id: randomUUID(),
  type: 'RefundSucceeded',
  data: { ...refundData(spec), providerRefundId: `pyr_${spec.refund}` },
  metadata: metadata(spec.occurredAt),
});

/** `event` as the store would hand it back at `at` (a unit test's log). */
export const recorded = (event: NewEvent, at: Position | number, streamId = 'test-stream'): RecordedEvent => ({
  ...event,
  streamId,
  revision: streamRevision(0),
  position: typeof at === 'number' ? position(BigInt(at), BigInt(at)) : at,
  recordedAt: new Date(event.metadata.occurredAt),
});
