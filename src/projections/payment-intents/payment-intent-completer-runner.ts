import type { PaymentIntentCompleter } from '../../application/payments/payment-intent-completer.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import { LeasedLoop } from '../lease-loop.js';
import type { ProjectionLogger } from '../logger.js';
import { silentLogger } from '../logger.js';

/*
 * The payment intent completer as a leased background loop: one leader across instances
 * (the lease saves work and processor calls; correctness does not need it, because a
 * completion is idempotent: same processor key, same outcome ids).
 */

export const PAYMENT_INTENT_COMPLETER_NAME = 'payment_intent_completer';

export interface PaymentIntentCompleterRunnerOptions {
  readonly instanceId: string;
  /** Pause between tries for the lease while another instance leads. */
  readonly leaseRetryMs?: number;
  readonly logger?: ProjectionLogger;
}

export class PaymentIntentCompleterRunner {
  private readonly loop: LeasedLoop;

  constructor(deps: { readonly completer: PaymentIntentCompleter; readonly leases: Pick<ProjectionStore, 'tryAcquireLease'> }, options: PaymentIntentCompleterRunnerOptions) {
    this.loop = new LeasedLoop(
      { leases: deps.leases, name: PAYMENT_INTENT_COMPLETER_NAME, holder: options.instanceId, retryMs: options.leaseRetryMs ?? 1_500, logger: options.logger ?? silentLogger },
      (signal) => deps.completer.run(signal),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
