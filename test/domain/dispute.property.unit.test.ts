import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DisputeEvent, DisputeSnapshot, DisputeState, DisputeStatus } from '../../src/domain/dispute/index.js';
import { decideDispute, disputeStatusRank, foldDispute, initialDisputeState, isTerminalDisputeStatus } from '../../src/domain/dispute/index.js';
import { payment, snapshot, DISPUTE_ID } from './dispute-fixtures.js';

/*
 * A dispute's true life at the processor is a sequence of snapshots whose statuses only move
 * up (one snapshot per rank); deliveries repeat them and arrive in any order.
 */
const LIVES: readonly (readonly DisputeStatus[])[] = [
  ['warning_needs_response', 'warning_under_review', 'warning_closed'],
  ['warning_needs_response', 'needs_response', 'under_review', 'won'],
  ['warning_needs_response', 'warning_under_review', 'needs_response', 'under_review', 'lost'],
  ['needs_response', 'under_review', 'won'],
  ['needs_response', 'lost'],
  ['needs_response', 'under_review'],
  ['under_review', 'lost'],
];

const lifeArb: fc.Arbitrary<DisputeSnapshot[]> = fc
  .constantFrom(...LIVES)
  .chain((statuses) => fc.tuple(fc.constant(statuses), fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: statuses.length, maxLength: statuses.length }), fc.integer({ min: 1, max: statuses.length })))
  .map(([statuses, fees, length]) => statuses.slice(0, length).map((status, i) => snapshot({ status, feeAmount: fees[i] as number, reason: i % 2 === 0 ? 'fraudulent' : 'general' })));

/** Deliveries: every snapshot at least once (the processor retries until acknowledged), some twice, in any order. */
const deliveriesArb = (life: readonly DisputeSnapshot[]): fc.Arbitrary<DisputeSnapshot[]> =>
  fc.tuple(fc.array(fc.integer({ min: 0, max: life.length - 1 }), { maxLength: 6 }), fc.integer()).chain(([extra, _]) =>
    fc.shuffledSubarray([...life, ...extra.map((i) => life[i] as DisputeSnapshot)], { minLength: life.length + extra.length, maxLength: life.length + extra.length }),
  );

function run(deliveries: readonly DisputeSnapshot[]): { state: DisputeState; events: DisputeEvent[]; states: DisputeState[] } {
  let state: DisputeState = initialDisputeState;
  const events: DisputeEvent[] = [];
  const states: DisputeState[] = [];
  for (const s of deliveries) {
    const d = decideDispute(state, { type: 'SyncDispute', disputeId: DISPUTE_ID, snapshot: s, payment: payment() });
    if (!d.ok) throw new Error(d.error.message);
    events.push(...d.value);
    state = foldDispute(d.value, state);
    states.push(state);
  }
  return { state, events, states };
}

describe('dispute properties', () => {
  it('any order of deliveries ends where the processor last was (the most advanced snapshot)', () => {
    fc.assert(
      fc.property(lifeArb.chain((life) => fc.tuple(fc.constant(life), deliveriesArb(life))), ([life, deliveries]) => {
        const inOrder = run(life).state;
        const shuffled = run(deliveries).state;
        expect(shuffled).toEqual(inOrder);
        const last = life.at(-1) as DisputeSnapshot;
        expect(inOrder).toMatchObject({ status: last.status, feeAmount: last.feeAmount, reason: last.reason });
      }),
      { numRuns: 300 },
    );
  });

  it('a terminal status stays terminal, and status never moves back', () => {
    fc.assert(
      fc.property(lifeArb.chain((life) => deliveriesArb(life)), (deliveries) => {
        const { states } = run(deliveries);
        let highest = -1;
        let terminal: DisputeState | undefined;
        for (const s of states) {
          if (!s.exists) continue;
          if (terminal) expect(s).toEqual(terminal);
          expect(disputeStatusRank(s.status)).toBeGreaterThanOrEqual(highest);
          highest = disputeStatusRank(s.status);
          if (isTerminalDisputeStatus(s.status)) terminal = s;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('replaying the events gives the same state, and a duplicate delivery appends nothing', () => {
    fc.assert(
      fc.property(lifeArb.chain((life) => deliveriesArb(life)), (deliveries) => {
        const { state, events } = run(deliveries);
        expect(foldDispute(events)).toEqual(state);
        for (const s of deliveries) {
          expect(decideDispute(state, { type: 'SyncDispute', disputeId: DISPUTE_ID, snapshot: s, payment: payment() })).toEqual({ ok: true, value: [] });
        }
      }),
      { numRuns: 300 },
    );
  });
});
