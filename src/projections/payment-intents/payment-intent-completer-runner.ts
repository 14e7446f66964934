import type { PaymentIntentCompleter } from '../../application/payments/payment-intent-completer.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import { leadWhileLeased } from '../lease-loop.js';
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
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: { readonly completer: PaymentIntentCompleter; readonly leases: Pick<ProjectionStore, 'tryAcquireLease'> },
    private readonly options: PaymentIntentCompleterRunnerOptions,
  ) {}

  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = leadWhileLeased(
      {
        leases: this.deps.leases,
        name: PAYMENT_INTENT_COMPLETER_NAME,
        holder: this.options.instanceId,
        retryMs: this.options.leaseRetryMs ?? 1_500,
        logger: this.options.logger ?? silentLogger,
      },
      this.controller.signal,
      (signal) => this.deps.completer.run(signal),
    );
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
  }
}
