import type { Result } from '../../domain/result.js';
import { err, ok } from '../../domain/result.js';
import type { TestClockCommand, TestClockError, TestClockState } from '../../domain/test-clock/test-clock.js';
import type { TestClockId } from '../../domain/ids.js';
import { testClockStream } from '../../domain/ids.js';
import type { Writer } from '../aggregates/aggregate-stream.js';
import { decideAndAppend } from '../aggregates/aggregate-stream.js';
import type { CommandContext } from '../command-context.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { EventStore } from '../ports/event-store.js';
import type { DueWork } from './billing-schedule.js';
import type { BillingSteps } from './billing-steps.js';
import { laterPosition } from './billing-steps.js';
import { mapConcurrently } from '../support/concurrently.js';
import { TEST_CLOCK } from './subscription-aggregate.js';
import type { SubscriptionCommandHandlers, SubscriptionCommandResult, SystemCause } from './subscription-command-handlers.js';
import type { Position } from '../ports/position.js';

/*
 * The billing clock (docs/architecture.md, "Subscriptions"): runs the work that fell due on
 * one clock (the real one, or a test clock) in time order. Each item runs at its due time on
 * that clock and is followed by `settle` (the billing process manager catching up with what
 * the item wrote), so a renewal's invoice is charged before the next item looks. Every item
 * is idempotent, which is what lets two instances tick at once, and a crashed advance be
 * finished by whoever comes next.
 */

/**
 * Waits for the consequences of the clock's own writes: a session per run, and after each
 * item `settle(written)` returns once the process manager has handled everything up to and
 * after `written` (an invoice issued, charged, its outcome back on the subscription) and the
 * due-work source sees it. In production the log-following settler (billing-settler.ts).
 */
export interface BillingSettler {
  begin(): Promise<BillingSettleSession>;
}

export interface BillingSettleSession {
  settle(written: Position | undefined): Promise<void>;
}

/** Where due work is found: a read model in production, the log itself in tests. */
export interface DueWorkSource {
  dueWork(testClock: string | null, until: Date, limit: number): Promise<readonly DueWork[]>;
}

/** Items due at one instant run together up to this many (then the rest of the instant, after a settle). */
const GROUP_LIMIT = 500;
/** Of those, this many at a time: each is a few round trips and, for a retry, a charge. */
const GROUP_CONCURRENCY = 8;

/** Items one run takes on at most; a test clock advanced by years over many subscriptions needs several. */
export const MAX_ITEMS_PER_RUN = 100_000;

export const BILLING_CLOCK_ACTOR = 'billing-clock';

export class BillingClock {
  constructor(
    private readonly source: DueWorkSource,
    private readonly subscriptions: SubscriptionCommandHandlers,
    private readonly steps: BillingSteps,
    private readonly settler: BillingSettler,
  ) {}

  /**
   * Runs everything due on `testClock` by `until`, earliest first; `more` when it stopped at
   * `maxItems`. `after`: a write of the caller's that started this run (a test clock's advance):
   * everything committed before it is handled before the clock looks.
   */
  async runDue(testClock: string | null, until: Date, correlationId: string, options: { readonly maxItems?: number; readonly after?: Position } = {}): Promise<{ readonly ran: number; readonly more: boolean }> {
    const maxItems = options.maxItems ?? MAX_ITEMS_PER_RUN;
    let ran = 0;
    const session = await this.settler.begin();
    // Whatever was written before this run (a subscription just created) is handled first.
    await session.settle(options.after);
    while (ran < maxItems) {
      // The items due at the earliest instant, of one kind (a retry before a renewal of the same
      // instant): independent of each other, so run together, then settled once. Re-read after each
      // group: a group's consequences (a renewal's retry) may fall due before the next.
      const page = await this.source.dueWork(testClock, until, Math.min(GROUP_LIMIT, maxItems - ran));
      const first = page[0];
      if (first === undefined) return { ran, more: false };
      const group = page.filter((w) => w.dueAt === first.dueAt && w.kind === first.kind);
      const written = await mapConcurrently(group, GROUP_CONCURRENCY, (item) => this.runOne(item, correlationId));
      await session.settle(written.reduce(laterPosition, undefined));
      ran += group.length;
    }
    return { ran, more: (await this.source.dueWork(testClock, until, 1)).length > 0 };
  }

  /** Runs one item; the position of what it wrote (or found written). */
  private async runOne(item: DueWork, correlationId: string): Promise<Position | undefined> {
    const at = new Date(item.dueAt);
    const key = 'subscriptionId' in item ? item.subscriptionId : item.invoiceId;
    const cause: SystemCause = { actor: BILLING_CLOCK_ACTOR, correlationId, causationId: `${item.kind}:${key}:${item.dueAt}`, seed: `${item.kind}:${key}:${item.dueAt}`, at };
    switch (item.kind) {
      case 'start_next_period':
        return this.expectDone(await this.subscriptions.startNextPeriod(item.subscriptionId, at, cause), item);
      case 'expire_incomplete':
        return this.expectDone(await this.subscriptions.expireIncomplete(item.subscriptionId, at, cause), item);
      case 'retry_invoice': {
        const outcome = await this.steps.execute({ kind: 'attempt_payment', invoiceId: item.invoiceId, attempt: item.attempt, at: item.dueAt }, cause);
        if (outcome.kind !== 'done') throw new Error(`retry of ${item.invoiceId}: ${outcome.reason}`);
        return outcome.position;
      }
    }
  }

  private expectDone(result: SubscriptionCommandResult, item: DueWork): Position | undefined {
    if (result.ok) return result.value.position;
    // Not due any more means another runner did it first.
    if (result.error.code === 'subscription_not_due') return undefined;
    throw new Error(`${item.kind} due ${item.dueAt}: ${result.error.code}`);
  }
}

/** Test clocks: create, and advance by running everything due on them in between. */
export class TestClocks {
  constructor(
    private readonly store: EventStore,
    private readonly clock: BillingClock,
    private readonly ids: IdGenerator,
    private readonly realNow: () => Date,
  ) {}

  async create(frozenTime: Date, name: string | null, ctx: CommandContext): Promise<Result<TestClockState & { exists: true }, TestClockError | { code: 'concurrency_conflict' }>> {
    const testClockId = this.ids.next('clock_') as TestClockId;
    return stateOf(await this.write(testClockId, { type: 'CreateTestClock', testClockId, frozenTime, name }, ctx));
  }

  /**
   * Moves the clock to `to`, running everything due on it in between, in time order, and
   * answers when done. A crashed advance is finished by the next call (for the same target).
   */
  async advance(testClockId: TestClockId, to: Date, ctx: CommandContext): Promise<Result<TestClockState & { exists: true }, TestClockError | { code: 'concurrency_conflict' }>> {
    const started = await this.write(testClockId, { type: 'StartAdvance', testClockId, to }, ctx);
    if (!started.ok) return started;
    // Its position bounds everything written before the advance began (a later transaction has a later position).
    const { more } = await this.clock.runDue(testClockId, to, ctx.correlationId, { after: started.value.position });
    if (more) throw new Error(`test clock ${testClockId}: more than the bound of work fell due; advance again to finish`);
    return stateOf(await this.write(testClockId, { type: 'FinishAdvance', testClockId, to }, ctx));
  }

  private async write(testClockId: TestClockId, command: TestClockCommand, ctx: CommandContext): Promise<Result<TestClockWritten, TestClockError | { code: 'concurrency_conflict' }>> {
    // Advances are audited by who asked (the actor), from and to (the events).
    const writer: Writer = { actor: ctx.actor, correlationId: ctx.correlationId, causationId: ctx.causationId ?? null, occurredAt: this.realNow().toISOString() };
    const decided = await decideAndAppend(this.store, TEST_CLOCK, testClockStream(testClockId), () => command, writer, { maxAttempts: 3, eventId: () => this.ids.uuid() });
    if (!decided.ok) return decided.error.code === 'concurrency_conflict' ? err({ code: 'concurrency_conflict' }) : err(decided.error);
    const { state, position } = decided.value;
    if (!state.exists || position === undefined) throw new Error(`test clock ${testClockId} vanished`);
    return ok({ state, position });
  }
}

interface TestClockWritten {
  readonly state: TestClockState & { exists: true };
  readonly position: Position;
}

const stateOf = <E>(written: Result<TestClockWritten, E>): Result<TestClockState & { exists: true }, E> => (written.ok ? ok(written.value.state) : written);
