import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { RecordedEvent } from '../../../src/application/ports/event-store.js';
import { streamRevision } from '../../../src/application/ports/event-store.js';
import { position } from '../../../src/application/ports/position.js';
import type { DisputeState, DisputeStatus } from '../../../src/domain/dispute/index.js';
import { decideDispute, evolveDispute, initialDisputeState } from '../../../src/domain/dispute/index.js';
import type { PaymentId, RefundId } from '../../../src/domain/ids.js';
import { toDisputeId, toPaymentId, toRefundId } from '../../../src/domain/ids.js';
import { moneyOf } from '../../../src/domain/money.js';
import type { PaymentCommand, PaymentState } from '../../../src/domain/payment/index.js';
import { decide, evolve, initialState } from '../../../src/domain/payment/index.js';
import { encodeTimeOrdered } from '../../../src/infrastructure/system/crockford.js';

/*
 * Random histories of payments and refunds, as the log would hold them. Payments go
 * through the real payment decider; refunds follow the contract in
 * src/domain/payment/refund-events.ts and src/domain/refund/events.ts (the refund decider is
 * built in parallel): a refund reserves at most what is refundable (captured − settled −
 * open reservations) on a succeeded payment, then succeeds (RefundSucceeded + settlement),
 * fails or is canceled (RefundFailed/RefundCanceled + release), its two events in either order.
 */

export type Step =
  | { readonly kind: 'create'; readonly payment: number; readonly amount: number; readonly currency: string; readonly automatic: boolean; readonly declined: boolean }
  /** `percent` of what is capturable (rounded up), or all of it. */
  | { readonly kind: 'capture'; readonly payment: number; readonly percent: number | undefined }
  | { readonly kind: 'cancel'; readonly payment: number }
  /** `percent` of what is refundable (rounded up; above 100 asks for more than is refundable), or all of it. */
  | { readonly kind: 'refund'; readonly payment: number; readonly percent: number | undefined }
  | { readonly kind: 'resolve'; readonly refund: number; readonly outcome: 'succeeded' | 'failed' | 'canceled'; readonly paymentFirst: boolean }
  /**
   * A dispute of `percent` of what is left to dispute, through the real dispute decider: the
   * processor's snapshots of one life (DISPUTE_LIVES) with their fees, delivered in the order
   * `deliveries` names (indices into the life; repeats and any order, as webhooks arrive).
   */
  | { readonly kind: 'dispute'; readonly payment: number; readonly percent: number; readonly life: number; readonly fees: readonly number[]; readonly deliveries: readonly number[] };

/** Lives a dispute can have at the processor: statuses only ever move up. */
export const DISPUTE_LIVES: readonly (readonly DisputeStatus[])[] = [
  ['needs_response', 'under_review', 'won'],
  ['needs_response', 'under_review', 'lost'],
  ['warning_needs_response', 'needs_response', 'lost'],
  ['warning_needs_response', 'warning_under_review', 'warning_closed'],
  ['warning_needs_response', 'won'],
  ['warning_needs_response', 'lost'],
  ['needs_response', 'under_review'],
];

/** A dispute as its deliveries left it. */
export interface ScenarioDispute {
  readonly paymentId: string;
  readonly currency: string;
  readonly amount: number;
  readonly status: DisputeStatus;
  readonly feeAmount: number;
}

export interface Scenario {
  readonly events: RecordedEvent[];
  /** Per payment: what was captured and what refunds succeeded, in minor units. */
  readonly expected: Map<string, { currency: string; captured: number; refunded: number }>;
  /** Refunds still reserved and unresolved at the end. */
  readonly openReservations: number;
  readonly disputes: readonly ScenarioDispute[];
}

const PAYMENTS = 3;
const BASE_TIME = Date.UTC(2026, 0, 1);

const paymentIdOf = (i: number): PaymentId => toPaymentId(`pay_${encodeTimeOrdered(BASE_TIME + i, new Uint8Array(10).fill(i + 1))}`);
const refundIdOf = (i: number): RefundId => toRefundId(`re_${encodeTimeOrdered(BASE_TIME + i, new Uint8Array(10).fill((i % 250) + 1))}`);

const amountArb = fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 999_999_999_999 }));

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    payment: fc.nat(PAYMENTS - 1),
    amount: amountArb,
    currency: fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'),
    automatic: fc.boolean(),
    declined: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('capture' as const), payment: fc.nat(PAYMENTS - 1), percent: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('cancel' as const), payment: fc.nat(PAYMENTS - 1) }),
  fc.record({ kind: fc.constant('refund' as const), payment: fc.nat(PAYMENTS - 1), percent: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('refund' as const), payment: fc.nat(PAYMENTS - 1), percent: fc.integer({ min: 1, max: 60 }) }),
  fc.record({
    kind: fc.constant('resolve' as const),
    refund: fc.nat(20),
    outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'canceled' as const),
    paymentFirst: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('dispute' as const),
    payment: fc.nat(PAYMENTS - 1),
    percent: fc.integer({ min: 1, max: 100 }),
    life: fc.nat(DISPUTE_LIVES.length - 1),
    fees: fc.array(fc.constantFrom(0, 1_500, 2_000), { minLength: 5, maxLength: 5 }),
    deliveries: fc.array(fc.nat(4), { minLength: 1, maxLength: 8 }),
  }),
);

const percentOf = (amount: number, percent: number | undefined): number => (percent === undefined ? amount : Math.ceil((amount * percent) / 100));

/** Every payment is created first (declined or not, automatic or manual), then random steps follow. */
export const stepsArb = (maxLength: number): fc.Arbitrary<Step[]> =>
  fc
    .tuple(
      fc.array(
        fc.record({ amount: amountArb, currency: fc.constantFrom('USD', 'EUR', 'JPY', 'BHD'), automatic: fc.boolean(), declined: fc.boolean() }),
        { minLength: PAYMENTS, maxLength: PAYMENTS },
      ),
      fc.array(stepArb, { maxLength, size: 'max' }),
    )
    .map(([creates, rest]) => [...creates.map((c, payment): Step => ({ kind: 'create', payment, ...c })), ...rest]);

interface OpenRefund {
  readonly refundId: RefundId;
  readonly paymentId: PaymentId;
  readonly customerId: string;
  readonly currency: string;
  readonly amount: number;
}

/** Plays `steps`, skipping the ones the rules refuse, and records what the log would hold. */
export function playScenario(steps: readonly Step[]): Scenario {
  const events: RecordedEvent[] = [];
  const revisions = new Map<string, number>();
  const payments = new Map<PaymentId, PaymentState>();
  const settled = new Map<PaymentId, number>();
  const reserved = new Map<PaymentId, number>();
  const open: OpenRefund[] = [];
  const expected = new Map<string, { currency: string; captured: number; refunded: number }>();
  const disputes: { state: DisputeState }[] = [];
  let refunds = 0;
  let clock = 0;

  const record = (stream: string, type: string, data: unknown): void => {
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    clock++;
    events.push({
      id: randomUUID(),
      type,
      streamId: stream,
      revision: streamRevision(revision),
      position: position(BigInt(1_000 + clock), BigInt(clock)),
      data,
      metadata: { correlationId: 'c', causationId: null, actor: 'test', occurredAt: new Date(BASE_TIME + clock * 1_000).toISOString(), schemaVersion: 1 },
      recordedAt: new Date(BASE_TIME + clock * 1_000),
    });
  };

  const paymentCommand = (paymentId: PaymentId, command: PaymentCommand): void => {
    const state = payments.get(paymentId) ?? initialState;
    const decided = decide(state, command);
    if (!decided.ok) return;
    let next: PaymentState = state;
    for (const event of decided.value) {
      next = evolve(next, event);
      record(`payment-${paymentId}`, event.type, event.data);
      if (event.type === 'PaymentCaptured') {
        const e = expected.get(paymentId) ?? { currency: event.data.currency, captured: 0, refunded: 0 };
        e.captured += event.data.amount;
        expected.set(paymentId, e);
      }
    }
    payments.set(paymentId, next);
  };

  for (const step of steps) {
    switch (step.kind) {
      case 'create': {
        const paymentId = paymentIdOf(step.payment);
        paymentCommand(paymentId, {
          type: 'CreatePayment',
          paymentId,
          customerId: `cus_${step.payment}`,
          amount: moneyOf(step.amount, step.currency),
          paymentMethod: 'pm_card_visa',
          captureMethod: step.automatic ? 'automatic' : 'manual',
          description: null,
          metadata: {},
          authorization: step.declined
            ? { status: 'declined', providerPaymentId: null, failureCode: 'card_declined', declineCode: 'generic_decline', message: 'declined' }
            : { status: 'approved', providerPaymentId: `pi_${step.payment}` },
        });
        break;
      }
      case 'capture':
      {
        const state = payments.get(paymentIdOf(step.payment));
        const capturable = state?.exists ? state.amountCapturable : 1;
        const amount = step.percent === undefined ? undefined : percentOf(capturable, step.percent);
        paymentCommand(paymentIdOf(step.payment), { type: 'CapturePayment', paymentId: paymentIdOf(step.payment), amount });
        break;
      }
      case 'cancel':
        paymentCommand(paymentIdOf(step.payment), { type: 'CancelPayment', paymentId: paymentIdOf(step.payment), reason: null });
        break;
      case 'refund': {
        const paymentId = paymentIdOf(step.payment);
        const state = payments.get(paymentId);
        if (!state?.exists || state.status !== 'succeeded') break;
        const refundable = state.amountCaptured - (settled.get(paymentId) ?? 0) - (reserved.get(paymentId) ?? 0);
        const amount = percentOf(refundable, step.percent);
        if (amount <= 0 || amount > refundable) break;
        const refundId = refundIdOf(refunds++);
        const ref = { paymentId, customerId: state.customerId, currency: state.currency };
        record(`payment-${paymentId}`, 'PaymentRefundReserved', { ...ref, refundId, amount, reason: null, metadata: {} });
        record(`refund-${refundId}`, 'RefundRequested', { refundId, ...ref, amount, reason: null, metadata: {} });
        reserved.set(paymentId, (reserved.get(paymentId) ?? 0) + amount);
        open.push({ refundId, ...ref, amount });
        break;
      }
      case 'resolve': {
        if (open.length === 0) break;
        const [refund] = open.splice(step.refund % open.length, 1) as [OpenRefund];
        const { refundId, paymentId, customerId, currency, amount } = refund;
        const reference = { refundId, paymentId, customerId, amount, currency };
        const onPayment = (): void => {
          if (step.outcome === 'succeeded') record(`payment-${paymentId}`, 'PaymentRefundSettled', { paymentId, customerId, currency, refundId, amount });
          else record(`payment-${paymentId}`, 'PaymentRefundReleased', { paymentId, customerId, currency, refundId, amount, outcome: step.outcome });
        };
        const onRefund = (): void => {
          if (step.outcome === 'succeeded') record(`refund-${refundId}`, 'RefundSucceeded', { ...reference, providerRefundId: `rf_${refundId}` });
          else if (step.outcome === 'failed') record(`refund-${refundId}`, 'RefundFailed', { ...reference, providerRefundId: null, failureReason: 'expired_or_canceled_card' });
          else record(`refund-${refundId}`, 'RefundCanceled', reference);
        };
        if (step.paymentFirst) {
          onPayment();
          onRefund();
        } else {
          onRefund();
          onPayment();
        }
        reserved.set(paymentId, (reserved.get(paymentId) ?? 0) - amount);
        if (step.outcome === 'succeeded') {
          settled.set(paymentId, (settled.get(paymentId) ?? 0) + amount);
          const e = expected.get(paymentId);
          if (!e) throw new Error('a refund of a payment that captured nothing');
          e.refunded += amount;
        }
        break;
      }
      case 'dispute': {
        const paymentId = paymentIdOf(step.payment);
        const state = payments.get(paymentId);
        if (!state?.exists) break;
        const life = DISPUTE_LIVES[step.life] as readonly DisputeStatus[];
        const left = state.amountCaptured - (settled.get(paymentId) ?? 0);
        const amount = percentOf(left, step.percent);
        const n = disputes.length;
        const disputeId = toDisputeId(`dp_${encodeTimeOrdered(BASE_TIME + n, new Uint8Array(10).fill((n % 250) + 1))}`);
        const payment = { paymentId, customerId: state.customerId, currency: state.currency, amountCaptured: state.amountCaptured, amountRefunded: settled.get(paymentId) ?? 0 };
        const d: { state: DisputeState } = { state: initialDisputeState };
        for (const index of step.deliveries) {
          const i = index % life.length;
          const snapshot = {
            providerDisputeId: `dp_p_${n}`,
            providerPaymentId: `pi_${step.payment}`,
            amount,
            currency: state.currency,
            status: life[i] as DisputeStatus,
            reason: 'fraudulent',
            feeAmount: step.fees[i] ?? 0,
            evidenceDueBy: null,
            createdAt: new Date(BASE_TIME).toISOString(),
          };
          const decided = decideDispute(d.state, { type: 'SyncDispute', disputeId, snapshot, payment });
          if (!decided.ok) continue;
          for (const event of decided.value) {
            d.state = evolveDispute(d.state, event);
            record(`dispute-${disputeId}`, event.type, event.data);
          }
        }
        if (d.state.exists) disputes.push(d);
        break;
      }
    }
  }
  const disputeOutcomes = disputes.flatMap(({ state }) =>
    state.exists ? [{ paymentId: state.paymentId, currency: state.currency, amount: state.amount, status: state.status, feeAmount: state.feeAmount }] : [],
  );
  return { events, expected, openReservations: open.length, disputes: disputeOutcomes };
}
