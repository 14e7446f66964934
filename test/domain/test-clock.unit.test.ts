import { describe, expect, it } from 'vitest';
import type { TestClockId } from '../../src/domain/ids.js';
import type { TestClockCommand, TestClockState } from '../../src/domain/test-clock/test-clock.js';
import { MAX_ADVANCE_MS, decideTestClock, evolveTestClock, upcastTestClockEvent } from '../../src/domain/test-clock/test-clock.js';

const id = 'clock_01JBZ5Q5N0000000000000000C' as TestClockId;
const at = (iso: string): Date => new Date(iso);

function given(...commands: TestClockCommand[]): TestClockState {
  let state: TestClockState = { exists: false };
  for (const cmd of commands) {
    const d = decideTestClock(state, cmd);
    if (!d.ok) throw new Error(d.error.code);
    state = d.value.reduce<TestClockState>(evolveTestClock, state);
  }
  return state;
}
const create: TestClockCommand = { type: 'CreateTestClock', testClockId: id, frozenTime: at('2026-01-01T00:00:00Z'), name: 'year of renewals' };
const start = (to: string): TestClockCommand => ({ type: 'StartAdvance', testClockId: id, to: at(to) });
const finish = (to: string): TestClockCommand => ({ type: 'FinishAdvance', testClockId: id, to: at(to) });

describe('test clocks', () => {
  it('are created ready at their frozen time and advance forward: started, then finished', () => {
    expect(given(create)).toMatchObject({ status: 'ready', frozenTime: '2026-01-01T00:00:00.000Z' });
    expect(given(create, start('2026-02-01T00:00:00Z'))).toMatchObject({ status: 'advancing', advancingTo: '2026-02-01T00:00:00.000Z', frozenTime: '2026-01-01T00:00:00.000Z' });
    expect(given(create, start('2026-02-01T00:00:00Z'), finish('2026-02-01T00:00:00Z'))).toMatchObject({ status: 'ready', frozenTime: '2026-02-01T00:00:00.000Z', advancingTo: null });
  });

  it('never go backwards, nor stand still, nor jump further than two years at once', () => {
    const ready = given(create);
    expect(decideTestClock(ready, start('2026-01-01T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'test_clock_backwards' } });
    expect(decideTestClock(ready, start('2025-12-31T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'test_clock_backwards' } });
    expect(decideTestClock(ready, { type: 'StartAdvance', testClockId: id, to: new Date(Date.parse('2026-01-01T00:00:00Z') + MAX_ADVANCE_MS + 1) })).toMatchObject({
      ok: false,
      error: { code: 'test_clock_advance_too_far' },
    });
  });

  it('one advance at a time: the same one asked again is the one running; another waits', () => {
    const advancing = given(create, start('2026-02-01T00:00:00Z'));
    expect(decideTestClock(advancing, start('2026-02-01T00:00:00Z'))).toEqual({ ok: true, value: [] });
    expect(decideTestClock(advancing, start('2026-03-01T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'test_clock_advancing', to: '2026-02-01T00:00:00.000Z' } });
  });

  it('finishing twice (a runner after a crash) is finishing once', () => {
    const done = given(create, start('2026-02-01T00:00:00Z'), finish('2026-02-01T00:00:00Z'));
    expect(decideTestClock(done, finish('2026-02-01T00:00:00Z'))).toEqual({ ok: true, value: [] });
  });

  it('a clock that does not exist is test_clock_not_found; a second creation is refused', () => {
    expect(decideTestClock({ exists: false }, start('2026-02-01T00:00:00Z'))).toMatchObject({ ok: false, error: { code: 'test_clock_not_found' } });
    expect(decideTestClock(given(create), create)).toMatchObject({ ok: false, error: { code: 'test_clock_already_exists' } });
  });
});

describe('reading test clock events back', () => {
  it('round-trips what the decider writes and refuses what would make the id or the times lie', () => {
    const d = decideTestClock(given(create), start('2026-02-01T00:00:00Z'));
    if (!d.ok) throw new Error(d.error.code);
    for (const e of d.value) expect(upcastTestClockEvent(e.type, JSON.parse(JSON.stringify(e.data)))).toEqual(e);
    expect(() => upcastTestClockEvent('TestClockAdvanced', { testClockId: 'sub_x', frozenTime: '2026-01-01T00:00:00Z' })).toThrow(/test clock id/);
    expect(() => upcastTestClockEvent('TestClockAdvanceStarted', { testClockId: id, from: 'yesterday', to: '2026-01-01T00:00:00Z' })).toThrow(/valid time/);
    expect(() => upcastTestClockEvent('TestClockDeleted', { testClockId: id })).toThrow(/not a test clock event/);
  });
});
