import { describe, expect, it } from 'vitest';
import type { DisputeCommand, DisputeEvent, DisputeState } from '../../src/domain/dispute/index.js';
import { DisputeEventNotApplicable, decideDispute, evolveDispute, foldDispute, initialDisputeState } from '../../src/domain/dispute/index.js';
import { toCurrencyCode } from '../../src/domain/currency.js';
import { DISPUTE_ID, snapshot, sync } from './dispute-fixtures.js';

/** Given these commands' events, when this command: its decision. */
function given(...commands: DisputeCommand[]): { state: DisputeState; events: DisputeEvent[]; when: (cmd: DisputeCommand) => ReturnType<typeof decideDispute> } {
  let state: DisputeState = initialDisputeState;
  const events: DisputeEvent[] = [];
  for (const cmd of commands) {
    const d = decideDispute(state, cmd);
    if (!d.ok) throw new Error(`given step refused: ${d.error.message}`);
    events.push(...d.value);
    state = foldDispute(d.value, state);
  }
  return { state, events, when: (cmd) => decideDispute(state, cmd) };
}

describe('dispute decider', () => {
  it('opens a dispute from the first snapshot, with the payment reference', () => {
    const d = given().when(sync());
    expect(d).toEqual({
      ok: true,
      value: [
        {
          type: 'DisputeOpened',
          data: {
            disputeId: DISPUTE_ID,
            paymentId: 'pay_01JD0000000000000000000000',
            customerId: 'cus_1',
            amount: 10_000,
            currency: 'USD',
            providerDisputeId: 'dp_sim_1',
            providerPaymentId: 'pi_sim_1',
            status: 'needs_response',
            reason: 'fraudulent',
            feeAmount: 1_500,
            evidenceDueBy: '2026-12-05T00:00:00.000Z',
            openedAt: '2026-11-28T00:00:00.000Z',
          },
        },
      ],
    });
  });

  it('refuses a dispute larger than what was captured and not refunded', () => {
    expect(given().when(sync({ amount: 10_000 }, { amountRefunded: 1 })).ok).toBe(false);
    expect(given().when(sync({ amount: 9_999 }, { amountRefunded: 1 })).ok).toBe(true);
    expect(given().when(sync({}, { amountCaptured: 0 }))).toMatchObject({ ok: false, error: { code: 'dispute_inconsistent' } });
  });

  it('refuses another currency, a non-positive amount and a negative fee', () => {
    expect(given().when(sync({ currency: toCurrencyCode('EUR') })).ok).toBe(false);
    expect(given().when(sync({ amount: 0 })).ok).toBe(false);
    expect(given().when(sync({ feeAmount: -1 })).ok).toBe(false);
  });

  it('a duplicate snapshot decides nothing', () => {
    expect(given(sync()).when(sync())).toEqual({ ok: true, value: [] });
  });

  it('moves forward with the status before and after', () => {
    const d = given(sync('warning_needs_response')).when(sync('needs_response'));
    expect(d).toMatchObject({ ok: true, value: [{ type: 'DisputeUpdated', data: { previousStatus: 'warning_needs_response', status: 'needs_response', previousFeeAmount: 1_500, feeAmount: 1_500 } }] });
  });

  it('an older snapshot delivered late never moves the status back', () => {
    expect(given(sync('under_review')).when(sync('needs_response'))).toEqual({ ok: true, value: [] });
    expect(given(sync('needs_response')).when(sync('warning_needs_response'))).toEqual({ ok: true, value: [] });
  });

  it('records a fee change at the same status', () => {
    const d = given(sync()).when(sync({ feeAmount: 0 }));
    expect(d).toMatchObject({ ok: true, value: [{ type: 'DisputeUpdated', data: { status: 'needs_response', previousFeeAmount: 1_500, feeAmount: 0 } }] });
  });

  it('closes as won or lost, and a closed dispute never moves again', () => {
    const won = given(sync(), sync('under_review'));
    expect(won.when(sync('won'))).toMatchObject({ ok: true, value: [{ type: 'DisputeClosed', data: { previousStatus: 'under_review', status: 'won' } }] });
    const closed = given(sync(), sync('won'));
    expect(closed.when(sync('under_review'))).toEqual({ ok: true, value: [] });
    expect(closed.when(sync({ status: 'won', feeAmount: 0 }))).toEqual({ ok: true, value: [] });
    expect(closed.when(sync('lost'))).toMatchObject({ ok: false, error: { code: 'dispute_inconsistent' } });
  });

  it('refuses a snapshot whose amount or processor id differs from the dispute', () => {
    const open = given(sync());
    expect(open.when(sync({ amount: 9_000 })).ok).toBe(false);
    expect(open.when(sync({ providerDisputeId: 'dp_other' })).ok).toBe(false);
  });

  it('the fold refuses events that cannot follow', () => {
    const { state, events } = given(sync(), sync('lost'));
    const opened = events[0] as DisputeEvent;
    expect(() => evolveDispute(state, opened)).toThrow(DisputeEventNotApplicable);
    expect(() => evolveDispute(state, events[1] as DisputeEvent)).toThrow(/already lost/);
    expect(() => evolveDispute(initialDisputeState, events[1] as DisputeEvent)).toThrow(/never opened/);
    expect(snapshot().status).toBe('needs_response');
  });
});
