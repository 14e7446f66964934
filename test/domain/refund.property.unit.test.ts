import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RefundId } from '../../src/domain/ids.js';
import type { ExistingPayment, PaymentEvent, PaymentState } from '../../src/domain/payment/index.js';
import { amountReserved, decide, evolve, fold } from '../../src/domain/payment/index.js';
import type { RefundCommand, RefundEvent, RefundState } from '../../src/domain/refund/index.js';
import { REFUND_TERMINAL_STATUSES, decideRefund, evolveRefund, foldRefund, initialRefundState } from '../../src/domain/refund/index.js';
import { PAYMENT_ID, authorized, captured } from './fixtures.js';
import { refundId } from './refund-fixtures.js';

/*
 * Random sequences of refund steps on one payment, run the way the handlers and the process
 * manager run them: reserve on the payment, request on the refund, an outcome, then settle
 * or release. Steps interleave across refunds in any order, and may repeat.
 */
type Step =
  | { readonly kind: 'reserve'; readonly refund: number; readonly amount: number | undefined }
  | { readonly kind: 'request'; readonly refund: number }
  | { readonly kind: 'outcome'; readonly refund: number; readonly outcome: 'succeeded' | 'failed' | 'canceled' }
  | { readonly kind: 'close'; readonly refund: number };

const REFUNDS = 5;
const refundArb = fc.integer({ min: 0, max: REFUNDS - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), refund: refundArb, amount: fc.option(fc.integer({ min: -5, max: 12_000 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('request' as const), refund: refundArb }),
  fc.record({ kind: fc.constant('outcome' as const), refund: refundArb, outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'canceled' as const) }),
  fc.record({ kind: fc.constant('close' as const), refund: refundArb }),
);

interface World {
  payment: PaymentState;
  paymentEvents: PaymentEvent[];
  refunds: Map<number, { state: RefundState; events: RefundEvent[] }>;
}

const existing = (s: PaymentState): ExistingPayment => {
  if (!s.exists) throw new Error('payment expected');
  return s;
};

function step(world: World, s: Step): void {
  const id: RefundId = refundId(s.refund + 100);
  const r = world.refunds.get(s.refund) ?? { state: initialRefundState, events: [] };
  const applyPayment = (events: readonly PaymentEvent[]): void => {
    world.paymentEvents.push(...events);
    world.payment = events.reduce<PaymentState>(evolve, world.payment);
  };
  const applyRefund = (events: readonly RefundEvent[]): void => {
    r.events.push(...events);
    r.state = events.reduce<RefundState>(evolveRefund, r.state);
    world.refunds.set(s.refund, r);
  };
  switch (s.kind) {
    case 'reserve': {
      const d = decide(world.payment, { type: 'ReserveRefund', paymentId: PAYMENT_ID, refundId: id, amount: s.amount, reason: null, metadata: {} });
      if (d.ok) applyPayment(d.value);
      return;
    }
    case 'request': {
      const reservation = world.paymentEvents.find((e) => e.type === 'PaymentRefundReserved' && e.data.refundId === id);
      if (reservation?.type !== 'PaymentRefundReserved') return;
      const { refundId: rid, paymentId, customerId, amount, currency, reason, metadata } = reservation.data;
      const d = decideRefund(r.state, { type: 'RequestRefund', request: { refundId: rid, paymentId, customerId, amount, currency, reason, metadata } });
      if (d.ok) applyRefund(d.value);
      return;
    }
    case 'outcome': {
      const cmd: RefundCommand =
        s.outcome === 'canceled'
          ? { type: 'CancelRefund', refundId: id }
          : {
              type: 'RecordRefundOutcome',
              refundId: id,
              outcome: s.outcome === 'succeeded' ? { status: 'succeeded', providerRefundId: 'x' } : { status: 'failed', providerRefundId: null, failureReason: 'expired_or_canceled_card' },
            };
      const d = decideRefund(r.state, cmd);
      if (d.ok) applyRefund(d.value);
      return;
    }
    case 'close': {
      if (!r.state.exists || r.state.status === 'pending') return;
      const d = decide(
        world.payment,
        r.state.status === 'succeeded'
          ? { type: 'SettleRefund', paymentId: PAYMENT_ID, refundId: id }
          : { type: 'ReleaseRefund', paymentId: PAYMENT_ID, refundId: id, outcome: r.state.status === 'failed' ? 'failed' : 'canceled' },
      );
      if (d.ok) applyPayment(d.value);
      return;
    }
  }
}

const CAPTURED = 8_000;
const run = (steps: readonly Step[]): World[] => {
  const world: World = { payment: fold([authorized(), captured(CAPTURED, 2_000)]), paymentEvents: [authorized(), captured(CAPTURED, 2_000)], refunds: new Map() };
  const snapshots: World[] = [];
  for (const s of steps) {
    step(world, s);
    snapshots.push({ ...world, paymentEvents: [...world.paymentEvents], refunds: new Map([...world.refunds].map(([k, v]) => [k, { ...v, events: [...v.events] }])) });
  }
  return snapshots;
};

/** Closing every finished refund: what the process manager does eventually. */
const settleAll = (steps: readonly Step[]): Step[] => [...steps, ...Array.from({ length: REFUNDS }, (_, refund): Step => ({ kind: 'close', refund }))];

describe('Refund properties', () => {
  it('refunded + reserved never exceeds captured, at every step', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        for (const w of run(steps)) {
          const p = existing(w.payment);
          expect(p.amountRefunded + amountReserved(p)).toBeLessThanOrEqual(p.amountCaptured);
          expect(p.amountRefunded).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('once every finished refund is closed, refunded = the sum of succeeded refunds, and only pending ones stay reserved', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const last = run(settleAll(steps)).at(-1);
        if (!last) return;
        const p = existing(last.payment);
        const refunds = [...last.refunds.values()].map((r) => r.state).filter((s) => s.exists);
        const succeeded = refunds.filter((s) => s.status === 'succeeded').reduce((sum, s) => sum + s.amount, 0);
        const pending = refunds.filter((s) => s.status === 'pending').reduce((sum, s) => sum + s.amount, 0);
        expect(p.amountRefunded).toBe(succeeded);
        // A reservation whose refund was never requested is also still open (the process manager requests it).
        expect(amountReserved(p)).toBeGreaterThanOrEqual(pending);
        expect(p.status).toBe(succeeded === 0 ? 'succeeded' : succeeded === CAPTURED ? 'refunded' : 'partially_refunded');
      }),
      { numRuns: 300 },
    );
  });

  it('a terminal refund stays terminal, and replaying its events gives the same state', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const worlds = run(steps);
        const seen = new Map<number, string>();
        for (const w of worlds) {
          for (const [k, r] of w.refunds) {
            if (!r.state.exists) continue;
            const before = seen.get(k);
            if (before && REFUND_TERMINAL_STATUSES.includes(before as never)) expect(r.state.status).toBe(before);
            seen.set(k, r.state.status);
            expect(foldRefund(r.events)).toEqual(r.state);
          }
          expect(fold(w.paymentEvents)).toEqual(w.payment);
        }
      }),
      { numRuns: 200 },
    );
  });
});
