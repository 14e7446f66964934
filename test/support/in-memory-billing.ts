import type { RecordedEvent } from '../../src/application/ports/event-store.js';
import { BillingClock, TestClocks } from '../../src/application/subscriptions/billing-clock.js';
import { BillingProcess } from '../../src/application/subscriptions/billing-process.js';
import { DEFAULT_BILLING_CONFIG } from '../../src/application/subscriptions/billing-steps.js';
import { ClockBillingTime } from '../../src/application/subscriptions/billing-time.js';
import { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { SystemIdGenerator } from '../../src/infrastructure/system/id-generator.js';
import { billingStepsFor } from './billing-steps.js';
import { LogDueWorkSource } from './in-memory-due-work.js';
import { InMemoryEventStore } from './in-memory-event-store.js';

/** How many events one settle handles at most before the test calls billing stuck. */
const MAX_EVENTS_PER_SETTLE = 10_000;

/**
 * The whole billing machinery over the in-memory store: subscription commands, the process
 * manager's steps (real payments and refunds on the simulated processor), a billing clock
 * that finds due work by folding the log, and test clocks. `settle` hands every event not
 * yet handled to the process manager, in log order, one caller at a time (in production it
 * is one leader's runner), and fails on a step that must wait.
 */
export function inMemoryBilling(realNow: () => Date = () => new Date('2030-01-01T00:00:00Z')) {
  const store = new InMemoryEventStore();
  const ids = new SystemIdGenerator();
  const subscriptions = new SubscriptionCommandHandlers(store, new ClockBillingTime({ now: realNow }, store), ids);
  const steps = billingStepsFor(store, subscriptions, ids, { now: realNow });
  const process = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  let cursor = 0;
  const drain = async (): Promise<void> => {
    for (let handled = 0; cursor < store.events.length; handled++) {
      if (handled > MAX_EVENTS_PER_SETTLE) throw new Error('billing did not settle');
      const outcome = await process.handle(store.events[cursor] as RecordedEvent);
      if (outcome.kind !== 'done') throw new Error(outcome.reason);
      cursor++;
    }
  };
  let running: Promise<void> = Promise.resolve();
  const settle = (): Promise<void> => (running = running.then(drain, drain));
  const clock = new BillingClock(new LogDueWorkSource(store.events), subscriptions, steps, { begin: () => Promise.resolve({ settle }) });
  const clocks = new TestClocks(store, clock, ids, realNow);
  return { store, ids, subscriptions, steps, process, settle, clocks };
}
