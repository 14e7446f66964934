import type { Clock } from '../../application/ports/clock.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import type { BillingClock } from '../../application/subscriptions/billing-clock.js';
import { backoff, sleep } from '../../application/support/timing.js';
import { LeasedLoop } from '../lease-loop.js';
import type { ProjectionLogger } from '../logger.js';
import { describeError, silentLogger } from '../logger.js';

/*
 * The real clock's tick (docs/architecture.md, "Subscriptions"): one leader across
 * instances runs, every `tickMs`, whatever fell due on the real clock (renewals, dunning
 * retries, incomplete expiries). The lease only saves work: every item is idempotent, so
 * two instances ticking at once (a lease lost mid-run) still invoice and charge once.
 * Test clocks never tick; they move only when advanced.
 */

export const BILLING_CLOCK_NAME = 'billing_clock';

export interface BillingClockRunnerOptions {
  readonly instanceId: string;
  readonly tickMs: number;
  readonly leaseRetryMs?: number;
  readonly logger?: ProjectionLogger;
}

const RETRY_BACKOFF = { minMs: 1_000, maxMs: 60_000 } as const;

export class BillingClockRunner {
  private readonly logger: ProjectionLogger;
  private readonly loop: LeasedLoop;

  constructor(
    private readonly deps: { readonly billingClock: BillingClock; readonly leases: Pick<ProjectionStore, 'tryAcquireLease'>; readonly clock: Clock },
    private readonly options: BillingClockRunnerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.loop = new LeasedLoop(
      { leases: deps.leases, name: BILLING_CLOCK_NAME, holder: options.instanceId, retryMs: options.leaseRetryMs ?? 1_500, logger: this.logger },
      (signal) => this.lead(signal),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async lead(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const now = this.deps.clock.now();
      let pause = this.options.tickMs;
      try {
        const { ran, more } = await this.deps.billingClock.runDue(null, now, `billing-clock:${now.toISOString()}`);
        if (ran > 0) this.logger.info({ ran, more }, 'billing clock: ran due work');
        failures = 0;
        if (more) pause = 0;
      } catch (error) {
        failures++;
        this.logger.error({ err: describeError(error), failures }, 'billing clock: tick failed; retrying');
        pause = Math.max(pause, backoff(failures, RETRY_BACKOFF));
      }
      if (pause > 0) await sleep(pause, signal);
    }
  }
}
