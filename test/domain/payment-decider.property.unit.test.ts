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

const captureAmountArb = fc.option(fc.integer({ min: -10, max: MAX_AMOUNT_MINOR + 10 }), { nil: undefined });

/** Intent first: requests, and the processor's answers to whatever may be pending, in any order. */
const intentArb: fc.Arbitrary<PaymentCommand> = fc.oneof(
  fc.record({ amount: amountArb, currency: currencyArb, captureMethod: fc.constantFrom('automatic' as const, 'manual' as const) }).map(
    ({ amount, currency, captureMethod }): PaymentCommand => {
      const { authorization: _authorization, type: _type, ...request } = createCommand({ amount: moneyOf(amount, currency), captureMethod });
      return { ...request, type: 'RequestPayment', providerKey: `create:${PAYMENT_ID}` };
    },
  ),
  captureAmountArb.map((amount): PaymentCommand => ({ type: 'RequestCapture', paymentId: PAYMENT_ID, amount })),
  fc.constant<PaymentCommand>({ type: 'RequestCancel', paymentId: PAYMENT_ID, reason: 'duplicate' }),
  fc.constantFrom<PaymentCommand>(
    { type: 'RecordAuthorization', paymentId: PAYMENT_ID, authorization: { status: 'approved', providerPaymentId: 'pi_1' } },
    { type: 'RecordAuthorization', paymentId: PAYMENT_ID, authorization: { status: 'declined', providerPaymentId: null, failureCode: 'card_declined', declineCode: null, message: 'declined' } },
    { type: 'RecordAuthorization', paymentId: PAYMENT_ID, authorization: { status: 'invalid_request', param: 'paymentMethod', message: 'no such method' } },
  ),
  fc.record({ operation: fc.constantFrom('capture' as const, 'cancel' as const), ok: fc.boolean() }).map(
    ({ operation, ok }): PaymentCommand => ({
      type: 'RecordOperationOutcome',
      paymentId: PAYMENT_ID,
      operation,
      outcome: ok ? { status: 'ok' } : { status: 'failed', code: 'processor_refused', message: 'refused' },
    }),
  ),
);

const followUpArb: fc.Arbitrary<PaymentCommand> = fc.oneof(
  captureAmountArb.map((amount): PaymentCommand => ({ type: 'CapturePayment', paymentId: PAYMENT_ID, amount })),
  fc.constant<PaymentCommand>({ type: 'CancelPayment', paymentId: PAYMENT_ID, reason: null }),
  createArb,
  intentArb,
  intentArb,
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

/** Starts like a stream from before intents (a one-step create) or like one written since (a request). */
const scenarioArb = fc.tuple(fc.oneof(createArb, intentArb), fc.array(followUpArb, { maxLength: 10 })).map(([c, rest]) => [c, ...rest]);

const REQUEST_TYPES: readonly string[] = ['PaymentRequested', 'PaymentCaptureRequested', 'PaymentCancelRequested'];

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

  it('one request at a time: between a request and its outcome no other request (nor a one-step capture or cancel) is accepted', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { events, states } = run(commands);
        let open: string | undefined;
        for (const event of events) {
          if (REQUEST_TYPES.includes(event.type)) {
            expect(open).toBeUndefined();
            open = event.type;
          } else if (open && event.type !== 'PaymentRefundReserved') {
            open = undefined;
          }
        }
        for (const s of states) {
          if (!s.exists) continue;
          // processing means exactly: the create is still with the processor.
          expect(s.status === 'processing').toBe(s.pendingOperation?.operation === 'create');
          if (s.pendingOperation?.operation === 'capture') expect(s.pendingOperation.amount).toBeLessThanOrEqual(s.amountCapturable);
        }
      }),
    );
  });

  it('a pending operation refuses every command that would reach the processor', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(followUpArb, { minLength: 1, maxLength: 5 }), (commands, later) => {
        const state = fold(run(commands).events);
        if (!state.exists || !state.pendingOperation) return;
        for (const cmd of later) {
          if (['CapturePayment', 'CancelPayment', 'RequestCapture', 'RequestCancel'].includes(cmd.type)) {
            expect(decide(state, cmd)).toMatchObject({ ok: false, error: { code: 'payment_operation_pending' } });
          }
        }
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
