import fc from 'fast-check';
import type { PaymentView } from '../../../src/application/payments/payment-view.js';
import { toPaymentView } from '../../../src/application/payments/payment-view.js';
import type { RecordedEvent } from '../../../src/application/ports/event-store.js';
import { streamRevision } from '../../../src/application/ports/event-store.js';
import { position } from '../../../src/application/ports/position.js';
import type { PaymentId } from '../../../src/domain/ids.js';
import { paymentStream, toPaymentId } from '../../../src/domain/ids.js';
import { MAX_AMOUNT_MINOR, moneyOf } from '../../../src/domain/money.js';
import type { PaymentCommand, PaymentEvent, PaymentState } from '../../../src/domain/payment/index.js';
import { decide, evolve, fold, initialState } from '../../../src/domain/payment/index.js';

/*
 * Random command sequences against a few payments, interleaved: creates (approved or
 * declined, manual or automatic capture), partial and full captures, cancels, and the
 * illegal ones decide refuses (a capture beyond what is capturable, a second create, any
 * command on a payment that does not exist or is done). What decide accepts is the log.
 */

export const SCENARIO_PAYMENTS = 3;

/** Which payment a step acts on, and what it asks, with the payment id left to fill in. */
export interface Step {
  readonly payment: number;
  readonly command: (paymentId: PaymentId) => PaymentCommand;
}

const createArb = fc
  .record({
    amount: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constant(MAX_AMOUNT_MINOR)),
    currency: fc.constantFrom('USD', 'JPY', 'BHD'),
    captureMethod: fc.constantFrom('automatic' as const, 'manual' as const),
    declined: fc.boolean(),
    description: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  })
  .map(({ amount, currency, captureMethod, declined, description }) => (paymentId: PaymentId): PaymentCommand => ({
    type: 'CreatePayment',
    paymentId,
    customerId: `cus_${amount % 3}`,
    amount: moneyOf(amount, currency),
    paymentMethod: declined ? 'pm_card_chargeDeclined' : 'pm_card_visa',
    captureMethod,
    description,
    metadata: { n: String(amount) },
    authorization: declined
      ? { status: 'declined', providerPaymentId: null, failureCode: 'card_declined', declineCode: 'generic_decline', message: 'Declined.' }
      : { status: 'approved', providerPaymentId: `pi_${paymentId}` },
  }));

const captureArb = fc
  .option(fc.oneof(fc.integer({ min: -1, max: 12_000 }), fc.constant(MAX_AMOUNT_MINOR + 1)), { nil: undefined })
  .map((amount) => (paymentId: PaymentId): PaymentCommand => ({ type: 'CapturePayment', paymentId, amount }));

const cancelArb = fc
  .constantFrom(null, 'requested_by_customer' as const, 'fraudulent' as const)
  .map((reason) => (paymentId: PaymentId): PaymentCommand => ({ type: 'CancelPayment', paymentId, reason }));

const stepArb: fc.Arbitrary<Step> = fc.record({
  payment: fc.nat({ max: SCENARIO_PAYMENTS - 1 }),
  command: fc.oneof({ weight: 3, arbitrary: createArb }, { weight: 3, arbitrary: captureArb }, { weight: 2, arbitrary: cancelArb }),
});

export const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 14 });

/** Batch sizes to cut a log into, as a runner with a small batch size would. */
export const batchSizesArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 });

export function cutIntoBatches<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  // Bounded by the items: every batch takes at least one.
  for (let at = 0, i = 0; at < items.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    batches.push(items.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** The write side's account of one payment: its events and when each was written. */
export interface WrittenStream {
  readonly paymentId: PaymentId;
  readonly events: PaymentEvent[];
  readonly occurredAt: string[];
}

/** What the read model should hold for a stream: the aggregate's fold, shown. */
export function expectedView(stream: WrittenStream): PaymentView {
  const state = fold(stream.events);
  if (!state.exists) throw new Error(`${stream.paymentId} was never created`);
  return toPaymentView(state, BigInt(stream.events.length - 1), stream.occurredAt[0] as string, stream.occurredAt.at(-1) as string);
}

/**
 * Runs the steps through decide, as the command handlers would, and records what is
 * accepted as a log: revisions per stream, positions in log order, one occurredAt per command.
 */
export function runSteps(steps: readonly Step[], ids: readonly PaymentId[], startMs = Date.UTC(2026, 0, 1)): { log: RecordedEvent[]; streams: WrittenStream[] } {
  const log: RecordedEvent[] = [];
  const streams = new Map<PaymentId, WrittenStream>();
  const states = new Map<PaymentId, PaymentState>();
  for (const [n, step] of steps.entries()) {
    const paymentId = ids[step.payment] as PaymentId;
    const state = states.get(paymentId) ?? initialState;
    const decided = decide(state, step.command(paymentId));
    if (!decided.ok) continue;
    const stream = streams.get(paymentId) ?? { paymentId, events: [], occurredAt: [] };
    const occurredAt = new Date(startMs + n * 1_000).toISOString();
    for (const event of decided.value) {
      const seq = BigInt(log.length + 1);
      log.push({
        id: `00000000-0000-4000-8000-${String(log.length).padStart(12, '0')}`,
        type: event.type,
        streamId: paymentStream(paymentId),
        revision: streamRevision(stream.events.length),
        position: position(seq, seq),
        // Through JSON, as the store hands it back: the brands are types only.
        data: JSON.parse(JSON.stringify(event.data)) as unknown,
        metadata: { correlationId: `c${n}`, causationId: null, actor: 'test', occurredAt, schemaVersion: 1 },
        recordedAt: new Date(startMs + n * 1_000),
      });
      stream.events.push(event);
      stream.occurredAt.push(occurredAt);
    }
    streams.set(paymentId, stream);
    states.set(paymentId, decided.value.reduce<PaymentState>(evolve, state));
  }
  return { log, streams: [...streams.values()] };
}

/** Ids for the scenario's payments; `salt` keeps runs that share a database apart. */
export function scenarioIds(salt = 0): PaymentId[] {
  return Array.from({ length: SCENARIO_PAYMENTS }, (_, i) => toPaymentId(`pay_01JD${String(salt).padStart(20, '0')}${i}0`));
}
