import type { TestClockId } from '../ids.js';
import { isTestClockId } from '../ids.js';
import type { Result } from '../result.js';
import { err, ok } from '../result.js';

/*
 * A test clock, as Stripe's (docs/architecture.md, "Subscriptions"): a frozen time that
 * subscriptions created on it live by, moved only forward and only by an explicit advance.
 * An advance is recorded when it starts (who, from, to) and when everything that fell due in
 * between has run; a process that dies in between leaves the clock `advancing`, and whoever
 * picks it up finishes the same advance (the work it runs is idempotent).
 */

export type TestClockStatus = 'ready' | 'advancing';

/** Stripe's bound on one advance: at most two intervals of the longest price (two years) at once. */
export const MAX_ADVANCE_MS = 2 * 366 * 86_400_000;

export interface TestClockCreated {
  readonly type: 'TestClockCreated';
  readonly data: { readonly testClockId: TestClockId; readonly frozenTime: string; readonly name: string | null };
}

export interface TestClockAdvanceStarted {
  readonly type: 'TestClockAdvanceStarted';
  readonly data: { readonly testClockId: TestClockId; readonly from: string; readonly to: string };
}

export interface TestClockAdvanced {
  readonly type: 'TestClockAdvanced';
  readonly data: { readonly testClockId: TestClockId; readonly frozenTime: string };
}

export type TestClockEvent = TestClockCreated | TestClockAdvanceStarted | TestClockAdvanced;
export const TEST_CLOCK_EVENT_TYPES: readonly TestClockEvent['type'][] = ['TestClockCreated', 'TestClockAdvanceStarted', 'TestClockAdvanced'];

export type TestClockState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly testClockId: TestClockId;
      readonly name: string | null;
      readonly frozenTime: string;
      readonly status: TestClockStatus;
      /** While advancing: where to. */
      readonly advancingTo: string | null;
    };

export type TestClockCommand =
  | { readonly type: 'CreateTestClock'; readonly testClockId: TestClockId; readonly frozenTime: Date; readonly name: string | null }
  | { readonly type: 'StartAdvance'; readonly testClockId: TestClockId; readonly to: Date }
  | { readonly type: 'FinishAdvance'; readonly testClockId: TestClockId; readonly to: Date };

export type TestClockError =
  | { readonly code: 'test_clock_already_exists'; readonly testClockId: string }
  | { readonly code: 'test_clock_not_found'; readonly testClockId: string }
  /** Another advance is running: answer it, retry when the clock is ready. */
  | { readonly code: 'test_clock_advancing'; readonly testClockId: string; readonly to: string }
  | { readonly code: 'test_clock_backwards'; readonly testClockId: string; readonly frozenTime: string }
  | { readonly code: 'test_clock_advance_too_far'; readonly testClockId: string; readonly maxMs: number };

export class TestClockEventNotApplicable extends Error {
  override readonly name = 'TestClockEventNotApplicable';
}

export function evolveTestClock(state: TestClockState, event: TestClockEvent): TestClockState & { readonly exists: true } {
  if (event.type === 'TestClockCreated') {
    if (state.exists) throw new TestClockEventNotApplicable(`${event.type}: test clock ${state.testClockId} already exists`);
    return { exists: true, testClockId: event.data.testClockId, name: event.data.name, frozenTime: event.data.frozenTime, status: 'ready', advancingTo: null };
  }
  if (!state.exists) throw new TestClockEventNotApplicable(`${event.type}: test clock ${event.data.testClockId} does not exist`);
  if (event.type === 'TestClockAdvanceStarted') {
    if (state.status !== 'ready') throw new TestClockEventNotApplicable(`${event.type}: test clock ${state.testClockId} is already advancing`);
    return { ...state, status: 'advancing', advancingTo: event.data.to };
  }
  if (state.status !== 'advancing' || state.advancingTo !== event.data.frozenTime) {
    throw new TestClockEventNotApplicable(`${event.type}: test clock ${state.testClockId} was not advancing to ${event.data.frozenTime}`);
  }
  return { ...state, status: 'ready', advancingTo: null, frozenTime: event.data.frozenTime };
}

export function decideTestClock(state: TestClockState, cmd: TestClockCommand): Result<TestClockEvent[], TestClockError> {
  if (cmd.type === 'CreateTestClock') {
    if (state.exists) return err({ code: 'test_clock_already_exists', testClockId: state.testClockId });
    return ok([{ type: 'TestClockCreated', data: { testClockId: cmd.testClockId, frozenTime: cmd.frozenTime.toISOString(), name: cmd.name } }]);
  }
  if (!state.exists) return err({ code: 'test_clock_not_found', testClockId: cmd.testClockId });
  const to = cmd.to.toISOString();
  if (cmd.type === 'StartAdvance') {
    if (state.status === 'advancing') {
      // The same advance asked again (a retried request): it is the one running.
      return state.advancingTo === to ? ok([]) : err({ code: 'test_clock_advancing', testClockId: state.testClockId, to: state.advancingTo ?? '' });
    }
    const from = Date.parse(state.frozenTime);
    if (cmd.to.getTime() <= from) return err({ code: 'test_clock_backwards', testClockId: state.testClockId, frozenTime: state.frozenTime });
    if (cmd.to.getTime() - from > MAX_ADVANCE_MS) return err({ code: 'test_clock_advance_too_far', testClockId: state.testClockId, maxMs: MAX_ADVANCE_MS });
    return ok([{ type: 'TestClockAdvanceStarted', data: { testClockId: state.testClockId, from: state.frozenTime, to } }]);
  }
  // FinishAdvance: done once; a repeat (the runner after a crash) finds it done.
  if (state.status === 'ready') return state.frozenTime === to ? ok([]) : err({ code: 'test_clock_backwards', testClockId: state.testClockId, frozenTime: state.frozenTime });
  if (state.advancingTo !== to) return err({ code: 'test_clock_advancing', testClockId: state.testClockId, to: state.advancingTo ?? '' });
  return ok([{ type: 'TestClockAdvanced', data: { testClockId: state.testClockId, frozenTime: to } }]);
}

/** Where stored JSON becomes a typed test-clock event; throws on what would make the brand or the times lie. */
export function upcastTestClockEvent(type: string, data: unknown): TestClockEvent {
  if (!(TEST_CLOCK_EVENT_TYPES as readonly string[]).includes(type)) throw new Error(`not a test clock event: ${type}`);
  if (typeof data !== 'object' || data === null) throw new Error(`${type} has no data`);
  const d = data as Record<string, unknown>;
  if (typeof d.testClockId !== 'string' || !isTestClockId(d.testClockId)) throw new Error(`${type} names no test clock id`);
  const times = type === 'TestClockAdvanceStarted' ? [d.from, d.to] : [d.frozenTime];
  if (times.some((t) => typeof t !== 'string' || Number.isNaN(Date.parse(t)))) throw new Error(`${type} of ${d.testClockId} has no valid time`);
  return { type, data } as TestClockEvent;
}
