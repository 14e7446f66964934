import type { CommandContext } from '../../../src/application/command-context.js';
import { billingStepsFor } from '../../support/billing-steps.js';
import { PaymentCommandHandlers } from '../../../src/application/payments/payment-command-handlers.js';
import type { AppendOptions, AppendResult, EventStore, ExpectedRevision, NewEvent, ReadAllOptions, RecordedEvent, StreamRevision, SubscribeOptions } from '../../../src/application/ports/event-store.js';
import type { Position } from '../../../src/application/ports/position.js';
import { isAfter } from '../../../src/application/ports/position.js';
import type { DueWorkSource } from '../../../src/application/subscriptions/billing-clock.js';
import { BillingClock, TestClocks } from '../../../src/application/subscriptions/billing-clock.js';
import { BillingProcess } from '../../../src/application/subscriptions/billing-process.js';
import type { DueWork } from '../../../src/application/subscriptions/billing-schedule.js';
import { DEFAULT_BILLING_CONFIG } from '../../../src/application/subscriptions/billing-steps.js';
import { ClockBillingTime } from '../../../src/application/subscriptions/billing-time.js';
import { SubscriptionCommandHandlers } from '../../../src/application/subscriptions/subscription-command-handlers.js';
import { SimulatedPaymentProvider } from '../../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../../src/infrastructure/system/id-generator.js';
import { LogDueWorkSource } from '../../support/in-memory-due-work.js';

/*
 * Subscriptions, a test clock and the billing process manager, the real application code,
 * over any event store (in memory for property tests, PostgreSQL for integration tests).
 * `log` mirrors the store's log as read back through readAll, so positions are the
 * store's own; the process manager is fed from it in log order, as its runner would be.
 */

export const userCtx: CommandContext = { correlationId: 'req', actor: 'key:ak_1', customerScope: null };

export interface BillingHarness {
  readonly log: RecordedEvent[];
  readonly subscriptions: SubscriptionCommandHandlers;
  readonly clocks: TestClocks;
  /** Reads the store's new events and lets the process manager handle each, until nothing new is appended. */
  settle(): Promise<void>;
}

const MAX_EVENTS_PER_SETTLE = 100_000;
const READ_PAGE = 1_000;
const HIDDEN_WAIT_MS = 10;
const MAX_HIDDEN_WAIT_MS = 15_000;

/**
 * The store, remembering the newest position it appended at. PostgreSQL's readAll hides
 * commits newer than any transaction still running anywhere on the server (the gap-free
 * rule), so an empty read does not mean that everything written has been read.
 */
class AppendTracker implements EventStore {
  newest: Position | undefined;
  constructor(private readonly inner: EventStore) {}
  async append(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision, options?: AppendOptions): Promise<AppendResult> {
    const result = await this.inner.append(streamId, events, expected, options);
    if (this.newest === undefined || isAfter(result.position, this.newest)) this.newest = result.position;
    return result;
  }
  readStream(streamId: string, options?: { fromRevision?: StreamRevision; maxCount?: number }) {
    return this.inner.readStream(streamId, options);
  }
  readAll(options: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    return this.inner.readAll(options);
  }
  subscribeToAll(options: SubscribeOptions): AsyncIterable<readonly RecordedEvent[]> {
    return this.inner.subscribeToAll(options);
  }
  headPosition(): Promise<Position | undefined> {
    return this.inner.headPosition();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export function billingHarness(inner: EventStore, realNow: () => Date = () => new Date('2030-01-01T00:00:00Z')): BillingHarness {
  const ids = new SystemIdGenerator();
  const store = new AppendTracker(inner);
  const log: RecordedEvent[] = [];
  let last: Position | undefined;
  const sync = async (): Promise<void> => {
    for (let waitedMs = 0; ; waitedMs += HIDDEN_WAIT_MS) {
      for (;;) {
        const page = await store.readAll({ after: last, maxCount: READ_PAGE });
        if (page.length === 0) break;
        log.push(...page);
        last = (page.at(-1) as RecordedEvent).position;
      }
      if (store.newest === undefined || (last !== undefined && !isAfter(store.newest, last))) return;
      if (waitedMs > MAX_HIDDEN_WAIT_MS) throw new Error('appended events stayed hidden from readAll');
      await new Promise((resolve) => setTimeout(resolve, HIDDEN_WAIT_MS));
    }
  };
  const time = new ClockBillingTime({ now: realNow }, store);
  const subscriptions = new SubscriptionCommandHandlers(store, time, ids);
  const payments = new PaymentCommandHandlers(store, new SimulatedPaymentProvider(), { now: realNow }, ids);
  const steps = billingStepsFor(store, subscriptions, ids, { now: realNow }, { payments });
  const process = new BillingProcess(store, steps, DEFAULT_BILLING_CONFIG);
  let cursor = 0;
  const drain = async (): Promise<void> => {
    for (let handled = 0; ; handled++) {
      if (handled > MAX_EVENTS_PER_SETTLE) throw new Error('billing did not settle');
      if (cursor >= log.length) await sync();
      if (cursor >= log.length) return;
      const outcome = await process.handle(log[cursor] as RecordedEvent);
      if (outcome.kind !== 'done') throw new Error(outcome.reason);
      cursor++;
    }
  };
  // One runner at a time, as the lease makes it in production.
  let running: Promise<void> = Promise.resolve();
  const settle = (): Promise<void> => (running = running.then(drain, drain));
  const fromLog = new LogDueWorkSource(log);
  const due: DueWorkSource = {
    async dueWork(testClock: string | null, until: Date, limit: number): Promise<readonly DueWork[]> {
      await sync();
      return fromLog.dueWork(testClock, until, limit);
    },
  };
  const clock = new BillingClock(due, subscriptions, steps, { begin: () => Promise.resolve({ settle }) });
  const clocks = new TestClocks(store, clock, ids, realNow);
  return { log, subscriptions, clocks, settle };
}
