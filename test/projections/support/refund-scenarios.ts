import fc from 'fast-check';
import type { NewEvent, RecordedEvent } from '../../../src/application/ports/event-store.js';
import { streamRevision } from '../../../src/application/ports/event-store.js';
import { position } from '../../../src/application/ports/position.js';
import type { RefundStatus, RefundView } from '../../../src/application/refunds/refund-view.js';
import type { CurrencyCode } from '../../../src/domain/currency.js';
import type { PaymentId, RefundId } from '../../../src/domain/ids.js';
import { refundStream, toPaymentId, toRefundId } from '../../../src/domain/ids.js';
import type { RefundEvent, RefundReason } from '../../../src/domain/refund/events.js';

/*
 * Refund events built per the contract (src/domain/refund/events.ts), without the write
 * side: this slice reads refunds, it does not decide them. A scenario is a few refunds,
 * each requested and then (or not) moved to one terminal state, their events interleaved.
 */

export const SCENARIO_REFUNDS = 3;

export interface RefundPlan {
  readonly amount: number;
  readonly currency: string;
  readonly customer: number;
  readonly reason: RefundReason | null;
  readonly outcome: 'pending' | 'succeeded' | 'failed' | 'canceled';
}

export const planArb: fc.Arbitrary<RefundPlan> = fc.record({
  amount: fc.integer({ min: 1, max: 1_000_000 }),
  currency: fc.constantFrom('USD', 'JPY', 'BHD'),
  customer: fc.integer({ min: 0, max: 1 }),
  reason: fc.constantFrom(null, 'requested_by_customer' as const, 'duplicate' as const, 'fraudulent' as const),
  outcome: fc.constantFrom('pending' as const, 'succeeded' as const, 'failed' as const, 'canceled' as const),
});

export const scenarioArb = fc.record({
  plans: fc.array(planArb, { minLength: 1, maxLength: SCENARIO_REFUNDS }),
  /** Which refund moves next; an index whose refund has no event left is skipped. */
  order: fc.array(fc.nat({ max: SCENARIO_REFUNDS - 1 }), { maxLength: 12 }),
});

export const batchSizesArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 });

/** Ids for a scenario's refunds and their payments; `salt` keeps runs sharing a database apart. */
export function refundIds(salt = 0): { refundId: RefundId; paymentId: PaymentId }[] {
  return Array.from({ length: SCENARIO_REFUNDS }, (_, i) => ({
    refundId: toRefundId(`re_01JD${String(salt).padStart(20, '0')}${i}0`),
    paymentId: toPaymentId(`pay_01JD${String(salt).padStart(20, '0')}${i % 2}0`),
  }));
}

/** A refund's events, in order, as the write side would append them. */
export function refundEvents(refundId: RefundId, paymentId: PaymentId, plan: RefundPlan, customerId = `cus_${plan.customer}`): RefundEvent[] {
  const ref = { refundId, paymentId, customerId, amount: plan.amount, currency: plan.currency as CurrencyCode };
  const requested: RefundEvent = { type: 'RefundRequested', data: { ...ref, reason: plan.reason, metadata: { order: `o-${plan.amount}`, a: '1' } } };
  switch (plan.outcome) {
    case 'pending':
      return [requested];
    case 'succeeded':
      return [requested, { type: 'RefundSucceeded', data: { ...ref, providerRefundId: `sim_re_${refundId}` } }];
    case 'failed':
      return [requested, { type: 'RefundFailed', data: { ...ref, providerRefundId: null, failureReason: 'expired_or_canceled_card' } }];
    case 'canceled':
      return [requested, { type: 'RefundCanceled', data: ref }];
  }
}

export interface ExpectedRefund {
  readonly refundId: RefundId;
  readonly plan: RefundPlan;
  /** Events of this refund that made it into the log. */
  readonly written: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const statusOf = (e: ExpectedRefund): RefundStatus => (e.written === 1 ? 'pending' : e.plan.outcome);

/** What the read model should show for a refund (the fields the history decides). */
export function expectedRow(e: ExpectedRefund): Partial<RefundView> {
  const status = statusOf(e);
  return {
    id: e.refundId,
    status,
    amount: e.plan.amount,
    currency: e.plan.currency as RefundView['currency'],
    customerId: `cus_${e.plan.customer}`,
    reason: e.plan.reason,
    failureReason: status === 'failed' ? 'expired_or_canceled_card' : null,
    revision: String(e.written - 1),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}


/** The log a scenario makes: per refund its events in order, refunds interleaved by `order`, then whatever is left. */
export function scenarioLog(scenario: { plans: readonly RefundPlan[]; order: readonly number[] }, salt = 0, startMs = Date.UTC(2026, 0, 1)): { log: RecordedEvent[]; expected: ExpectedRefund[] } {
  const ids = refundIds(salt);
  const queues = scenario.plans.map((plan, i) => refundEvents(ids[i]!.refundId, ids[i]!.paymentId, plan));
  const written = scenario.plans.map(() => [] as string[]);
  const log: RecordedEvent[] = [];
  const emit = (i: number): void => {
    const event = queues[i]?.shift();
    if (!event) return;
    const seq = BigInt(log.length + 1);
    const occurredAt = new Date(startMs + log.length * 1_000).toISOString();
    log.push({
      id: `00000000-0000-4000-8000-${String(log.length).padStart(12, '0')}`,
      type: event.type,
      streamId: refundStream(ids[i]!.refundId),
      revision: streamRevision(written[i]!.length),
      position: position(seq, seq),
      data: JSON.parse(JSON.stringify(event.data)) as unknown,
      metadata: { correlationId: `c${log.length}`, causationId: null, actor: 'test', occurredAt, schemaVersion: 1 },
      recordedAt: new Date(startMs + log.length * 1_000),
    });
    written[i]!.push(occurredAt);
  };
  // A refund moves only after it was requested: the first event of each comes when first named.
  for (const i of scenario.order) emit(i);
  // Every refund is at least requested; whether it got further is up to `order`.
  for (const [i] of scenario.plans.entries()) if (written[i]!.length === 0) emit(i);
  const expected = scenario.plans.map((plan, i) => ({
    refundId: ids[i]!.refundId,
    plan,
    written: written[i]!.length,
    createdAt: written[i]![0]!,
    updatedAt: written[i]!.at(-1)!,
  }));
  return { log, expected };
}

/** `events` as the event store takes them. */
export const toNewEvents = (events: readonly RefundEvent[], occurredAt = new Date().toISOString()): NewEvent[] =>
  events.map((e) => ({
    id: crypto.randomUUID(),
    type: e.type,
    data: e.data,
    metadata: { correlationId: 'test', causationId: null, actor: 'test', occurredAt, schemaVersion: 1 },
  }));
