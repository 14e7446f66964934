import { isTestClockId, testClockStream } from '../../domain/ids.js';
import type { TestClockState } from '../../domain/test-clock/test-clock.js';
import { loadAggregate } from '../aggregates/aggregate-stream.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import { TEST_CLOCK } from './subscription-aggregate.js';

/**
 * Now, on the clock a subscription lives by: the real one, or its test clock's frozen time
 * (docs/architecture.md, "Subscriptions"). Undefined for a test clock that does not exist.
 */
export interface BillingTime {
  now(testClock: string | null): Promise<Date | undefined>;
}

/** The real clock, and test clocks read from their streams. */
export class ClockBillingTime implements BillingTime {
  constructor(
    private readonly clock: Clock,
    private readonly store: EventStore,
  ) {}

  async now(testClock: string | null): Promise<Date | undefined> {
    if (testClock === null) return this.clock.now();
    const state = await loadTestClock(this.store, testClock);
    return state.exists ? new Date(state.frozenTime) : undefined;
  }
}

export async function loadTestClock(store: EventStore, testClock: string): Promise<TestClockState> {
  if (!isTestClockId(testClock)) return { exists: false };
  return (await loadAggregate(store, TEST_CLOCK, testClockStream(testClock))).state;
}
