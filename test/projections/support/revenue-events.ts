import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, RecordedEvent } from '../../../src/application/ports/event-store.js';
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

// ---- a scenario shared by the read-model and HTTP suites ------------------------------

export type ScenarioStep =
  | { readonly kind: 'capture' | 'refund' | 'failed_refund'; readonly amount: number; readonly currency: string; readonly occurredAt: string };

/** Captures and refunds around a month end, in three currencies, with offsets that move the UTC day. */
export const REVENUE_SCENARIO: readonly ScenarioStep[] = [
  { kind: 'capture', amount: 1_000, currency: 'USD', occurredAt: '2025-01-31T23:59:59.999Z' },
  { kind: 'capture', amount: 2_500, currency: 'USD', occurredAt: '2025-02-01T00:00:00-01:00' }, // 01:00 UTC on Feb 1
  { kind: 'capture', amount: 700, currency: 'EUR', occurredAt: '2025-02-01T12:00:00Z' },
  { kind: 'refund', amount: 300, currency: 'USD', occurredAt: '2025-02-01T13:00:00Z' },
  { kind: 'failed_refund', amount: 999, currency: 'USD', occurredAt: '2025-02-01T14:00:00Z' }, // not counted
  { kind: 'capture', amount: 5_000, currency: 'JPY', occurredAt: '2025-02-28T08:00:00Z' },
  { kind: 'refund', amount: 400, currency: 'EUR', occurredAt: '2025-03-02T09:00:00Z' }, // a day that only refunds: net < 0
];

export interface ExpectedRow {
  readonly period: string;
  readonly currency: string;
  readonly gross: number;
  readonly refunded: number;
  readonly net: number;
  readonly payments: number;
  readonly refunds: number;
}

export const expectedRow = (period: string, currency: string, gross: number, refunded: number, payments: number, refunds: number): ExpectedRow => ({
  period, currency, gross, refunded, net: gross - refunded, payments, refunds,
});

/** REVENUE_SCENARIO's report by day. */
export const SCENARIO_DAYS: readonly ExpectedRow[] = [
  expectedRow('2025-01-31', 'USD', 1_000, 0, 1, 0),
  expectedRow('2025-02-01', 'EUR', 700, 0, 1, 0),
  expectedRow('2025-02-01', 'USD', 2_500, 300, 1, 1),
  expectedRow('2025-02-28', 'JPY', 5_000, 0, 1, 0),
  expectedRow('2025-03-02', 'EUR', 0, 400, 0, 1),
];

/** REVENUE_SCENARIO's report by month. */
export const SCENARIO_MONTHS: readonly ExpectedRow[] = [
  expectedRow('2025-01', 'USD', 1_000, 0, 1, 0),
  expectedRow('2025-02', 'EUR', 700, 0, 1, 0),
  expectedRow('2025-02', 'JPY', 5_000, 0, 1, 0),
  expectedRow('2025-02', 'USD', 2_500, 300, 1, 1),
  expectedRow('2025-03', 'EUR', 0, 400, 0, 1),
];

/**
 * Appends one step as the write side would: a payment authorized then captured, or a
 * refund requested then settled, each in its own stream (`n` makes the ids). Returns the
 * position of the write and, when the step counts in reports, its counted event as recorded.
 */
export async function appendStep(store: EventStore, step: ScenarioStep, n: number): Promise<{ position: Position; counted: RecordedEvent | undefined }> {
  const spec = { payment: n, refund: n, amount: step.amount, currency: step.currency, occurredAt: step.occurredAt };
  if (step.kind === 'capture') {
    const captured = capturedEvent(spec);
    const { position: at } = await store.append(`payment-${paymentIdOf(n)}`, [authorizedEvent(spec), captured], 'no_stream');
    return { position: at, counted: recorded(captured, at) };
  }
  const settled = refundSucceededEvent(spec);
  const outcome: NewEvent = step.kind === 'refund'
    ? settled
    : { ...settled, type: 'RefundFailed', data: { ...(settled.data as object), providerRefundId: null, failureReason: 'expired_or_canceled_card' } };
  const { position: at } = await store.append(`refund-${refundIdOf(n)}`, [refundRequestedEvent(spec), outcome], 'no_stream');
  return { position: at, counted: step.kind === 'refund' ? recorded(settled, at) : undefined };
}
