import type { ProjectionStore } from '../application/ports/projection-store.js';
import { backoff, sleep } from '../application/support/timing.js';
import type { ProjectionLogger } from './logger.js';
import { describeError } from './logger.js';

/*
 * One leader across instances for a background loop (the activity feed, the billing
 * process manager, the billing clock): try the projection store's run lease (a PostgreSQL
 * session advisory lock, so it dies with its holder's connection), lead while it holds,
 * release, and try again until stopped. Shared so every such loop gives up and takes over
 * leadership the same way.
 */

export interface LeaseLoopOptions {
  readonly leases: Pick<ProjectionStore, 'tryAcquireLease'>;
  /** The lease's name (the projection record it guards). */
  readonly name: string;
  readonly holder: string;
  /** Pause between tries while another instance leads. */
  readonly retryMs: number;
  readonly logger: ProjectionLogger;
  /** Told when this instance starts and stops leading (for status reports). */
  readonly onLeading?: (leading: boolean) => void;
}

/** Until `stopped` aborts: acquire, `lead(signal)` (aborted when stopped or the lease is lost), release. */
export async function leadWhileLeased(options: LeaseLoopOptions, stopped: AbortSignal, lead: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const { name, logger } = options;
  while (!stopped.aborted) {
    let lease;
    try {
      lease = await options.leases.tryAcquireLease(name, 'run', options.holder);
    } catch (error) {
      logger.warn({ err: describeError(error) }, `${name}: could not try the lease`);
    }
    if (!lease) {
      await sleep(options.retryMs, stopped);
      continue;
    }
    options.onLeading?.(true);
    logger.info({ instanceId: options.holder }, `${name}: leading`);
    try {
      await lead(AbortSignal.any([stopped, lease.lost]));
    } finally {
      options.onLeading?.(false);
      await lease.release().catch((error: unknown) => logger.warn({ err: describeError(error) }, `${name}: lease release failed`));
    }
  }
}

/**
 * A background loop led by one instance at a time: `start` begins trying for the lease and
 * leads with `lead` while it holds; `stop` aborts and waits for the loop to end.
 */
export class LeasedLoop {
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly options: LeaseLoopOptions,
    private readonly lead: (signal: AbortSignal) => Promise<void>,
  ) {}

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = leadWhileLeased(this.options, this.controller.signal, this.lead);
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    this.controller = undefined;
  }
}

/** What one step of a checkpointed loop says about the next: go on at once, wait for new events, or back off. */
export type LoopStep = { readonly kind: 'idle' } | { readonly kind: 'waiting'; readonly reason: string } | { readonly kind: string };

export interface StepLoopOptions {
  /** Names the loop in its log lines. */
  readonly label: string;
  readonly logger: ProjectionLogger;
  /** Pause after a step that found nothing to do. */
  readonly idlePollMs: number;
  /** Backoff after a step that must wait or failed; grows with consecutive ones. */
  readonly retry: { readonly minMs: number; readonly maxMs: number };
}

/**
 * Runs `step` until `signal` aborts. A step that must wait (`waiting`) or throws keeps its
 * checkpoint before the event, so the same event is tried again after a growing backoff:
 * nothing is ever skipped. Shared by the checkpointed reactions so they all retry alike.
 */
export async function runSteps(signal: AbortSignal, options: StepLoopOptions, step: () => Promise<LoopStep>): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let pause = 0;
    try {
      const result = await step();
      if (result.kind === 'waiting') {
        failures++;
        options.logger.warn({ reason: (result as { reason: string }).reason, failures }, `${options.label}: must wait; retrying`);
        pause = backoff(failures, options.retry);
      } else {
        failures = 0;
        if (result.kind === 'idle') pause = options.idlePollMs;
      }
    } catch (error) {
      failures++;
      options.logger.error({ err: describeError(error), failures }, `${options.label}: batch failed; retrying from the checkpoint`);
      pause = backoff(failures, options.retry);
    }
    if (pause > 0) await sleep(pause, signal);
  }
}
