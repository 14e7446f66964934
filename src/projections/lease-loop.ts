import type { ProjectionStore } from '../application/ports/projection-store.js';
import { sleep } from '../application/support/timing.js';
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
