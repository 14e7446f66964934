import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_AMOUNT_MINOR, moneyOf } from '../../src/domain/money.js';
import type { PaymentCommand, PaymentEvent, PaymentState } from '../../src/domain/payment/index.js';
import { EventNotApplicable, TERMINAL_STATUSES, decide, evolve, fold, initialState } from '../../src/domain/payment/index.js';
import { PAYMENT_ID, createCommand } from './fixtures.js';

const amountArb = fc.integer({ min: 1, max: MAX_AMOUNT_MINOR });
const currencyArb = fc.constantFrom('USD', 'JPY', 'BHD', 'EUR');

const createArb = fc.record({
  amount: amountArb,
  currency: currencyArb,
  captureMethod: fc.constantFrom('automatic' as const, 'manual' as const),
  declined: fc.boolean(),
}).map(({ amount, currency, captureMethod, declined }): PaymentCommand =>
  createCommand({
    amount: moneyOf(amount, currency),
    captureMethod,
    authorization: declined
      ? { status: 'declined', providerPaymentId: null, failureCode: 'card_declined', declineCode: 'generic_decline', message: 'declined' }
      : { status: 'approved', providerPaymentId: 'pi_1' },
  }),
);

const followUpArb: fc.Arbitrary<PaymentCommand> = fc.oneof(
  fc.record({ amount: fc.option(fc.integer({ min: -10, max: MAX_AMOUNT_MINOR + 10 }), { nil: undefined }) }).map(
    ({ amount }): PaymentCommand => ({ type: 'CapturePayment', paymentId: PAYMENT_ID, amount }),
  ),
  fc.constant<PaymentCommand>({ type: 'CancelPayment', paymentId: PAYMENT_ID, reason: null }),
  createArb,
);

/** Runs a command sequence, keeping the events of every accepted decision. */
function run(commands: PaymentCommand[]): { events: PaymentEvent[]; states: PaymentState[] } {
  const events: PaymentEvent[] = [];
  const states: PaymentState[] = [initialState];
  let state = initialState;
  for (const cmd of commands) {
    const result = decide(state, cmd);
    if (!result.ok) continue;
    events.push(...result.value);
    state = result.value.reduce(evolve, state);
    states.push(state);
  }
  return { events, states };
}

const scenarioArb = fc.tuple(createArb, fc.array(followUpArb, { maxLength: 8 })).map(([c, rest]) => [c, ...rest]);

describe('Payment decider properties', () => {
  it('never captures more than was authorized, and captured + released never exceeds the amount', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { states } = run(commands);
        for (const s of states) {
          if (!s.exists) continue;
          expect(s.amountCaptured).toBeLessThanOrEqual(s.amount);
          expect(s.amountCaptured + s.amountReleased + s.amountCapturable).toBeLessThanOrEqual(s.amount);
          expect(Number.isSafeInteger(s.amountCaptured) && s.amountCaptured >= 0).toBe(true);
        }
      }),
    );
  });

  it('a terminal state stays terminal: every later command is refused', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(followUpArb, { minLength: 1, maxLength: 5 }), (commands, later) => {
        const state = fold(run(commands).events);
        if (!state.exists || !TERMINAL_STATUSES.includes(state.status)) return;
        for (const cmd of later) expect(decide(state, cmd).ok).toBe(false);
      }),
    );
  });

  it('replaying the events rebuilds the same state', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { events, states } = run(commands);
        expect(fold(events)).toEqual(states.at(-1));
        // And replaying through JSON (as the store does) changes nothing.
        expect(fold(JSON.parse(JSON.stringify(events)) as PaymentEvent[])).toEqual(states.at(-1));
      }),
    );
  });

  it('a captured payment is whole: captured + released equals the authorized amount', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const s = fold(run(commands).events);
        if (s.exists && (s.status === 'succeeded' || s.status === 'canceled')) expect(s.amountCaptured + s.amountReleased).toBe(s.amount);
      }),
    );
  });

  it('evolve is loud: every event decide produced applies once, and the same event applied again is refused', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { events } = run(commands);
        let state = initialState;
        for (const event of events) {
          state = evolve(state, event);
          expect(() => evolve(state, event)).toThrow(EventNotApplicable);
        }
      }),
    );
  });
});
