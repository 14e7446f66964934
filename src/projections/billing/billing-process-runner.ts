import type { EventStore } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import { START } from '../../application/ports/position.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import type { BillingProcess } from '../../application/subscriptions/billing-process.js';
import { isBillingProcessEventType } from '../../application/subscriptions/billing-process.js';
import { ok } from '../../domain/result.js';
import { LeasedLoop, runSteps } from '../lease-loop.js';
import type { ProjectionLogger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { projectionSchema } from '../projection.js';

/*
 * The billing process manager's checkpointed runner (docs/architecture.md, "Subscriptions";
 * the process-manager recipe): one leader across instances follows the log from its
 * checkpoint, hands each subscription and invoice event to BillingProcess, and moves the
 * checkpoint past what was handled. Its memory is the log and that checkpoint, nothing
 * else: a crash between a step and the checkpoint re-handles the step's cause, which writes
 * nothing new because every step's ids derive from it. A step that must wait (the
 * processor unreachable) holds the checkpoint at its event and is tried again with backoff.
 *
 * The checkpoint is a projection record (name BILLING_PROCESS_NAME, no tables), so it shows
 * with the projections, is waited on like them, and is moved under the same row lock.
 */

export const BILLING_PROCESS_NAME = 'billing_process';
const SPEC = { name: BILLING_PROCESS_NAME, version: 1, schemaSql: '' } as const;

export interface BillingProcessRunnerOptions {
  readonly instanceId: string;
  /** Events read per batch (default 200). */
  readonly batchSize?: number;
  /** Pause when the log has nothing new (default 250 ms). */
  readonly idlePollMs?: number;
  /** Pause between tries for the lease while another instance leads (default 1.5 s). */
  readonly leaseRetryMs?: number;
  readonly logger?: ProjectionLogger;
}

const RETRY_BACKOFF = { minMs: 500, maxMs: 60_000 } as const;

/**
 * The runner's checkpoint, for the runner and for a test clock's settler, which handles the
 * same events and may move it on past what it handled (so the runner does not do it again).
 */
export class BillingProcessCheckpoint {
  private registered = false;

  constructor(private readonly store: Pick<ProjectionStore, 'register' | 'readCheckpoints' | 'commitBatch'>) {}

  async read(): Promise<Position> {
    await this.register();
    return (await this.store.readCheckpoints([BILLING_PROCESS_NAME])).get(BILLING_PROCESS_NAME) ?? START;
  }

  /** Moves it from `from` to `to`; false when it was not at `from` any more (someone else moved it). */
  async move(from: Position, to: Position): Promise<boolean> {
    await this.register();
    const committed = await this.store.commitBatch({ ...SPEC, schema: projectionSchema(BILLING_PROCESS_NAME), from, to }, () => Promise.resolve(ok([])));
    return committed.kind === 'committed';
  }

  private async register(): Promise<void> {
    if (this.registered) return;
    await this.store.register(SPEC);
    this.registered = true;
  }
}

export type BillingBatchStep =
  | { readonly kind: 'idle' }
  | { readonly kind: 'handled'; readonly to: Position; readonly events: number }
  /** Stopped before an event whose work must wait; the checkpoint moved up to it. */
  | { readonly kind: 'waiting'; readonly reason: string }
  | { readonly kind: 'moved' };

export class BillingProcessRunner {
  private readonly batchSize: number;
  private readonly logger: ProjectionLogger;
  private readonly loop: LeasedLoop;
  private readonly checkpoint: BillingProcessCheckpoint;

  constructor(
    private readonly deps: { readonly eventStore: EventStore; readonly store: ProjectionStore; readonly process: BillingProcess },
    private readonly options: BillingProcessRunnerOptions,
  ) {
    this.batchSize = Math.min(10_000, Math.max(1, Math.floor(options.batchSize ?? 200)));
    this.logger = options.logger ?? silentLogger;
    this.loop = new LeasedLoop(
      { leases: this.deps.store, name: BILLING_PROCESS_NAME, holder: options.instanceId, retryMs: options.leaseRetryMs ?? 1_500, logger: this.logger },
      (signal) => this.lead(signal),
    );
    this.checkpoint = new BillingProcessCheckpoint(deps.store);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch from the stored checkpoint: handle, then move the checkpoint. Exposed for tests and the CLI. */
  async runOnce(): Promise<BillingBatchStep> {
    const from = await this.checkpoint.read();
    const events = await this.deps.eventStore.readAll({ after: from, maxCount: this.batchSize });
    if (events.length === 0) return { kind: 'idle' };
    let to: Position | undefined;
    let waiting: string | undefined;
    for (const event of events) {
      if (isBillingProcessEventType(event.type)) {
        const outcome = await this.deps.process.handle(event);
        if (outcome.kind !== 'done') {
          waiting = outcome.reason;
          break;
        }
      }
      to = event.position;
    }
    if (to !== undefined && !(await this.checkpoint.move(from, to))) return { kind: 'moved' };
    return waiting !== undefined ? { kind: 'waiting', reason: waiting } : { kind: 'handled', to: to ?? from, events: events.length };
  }

  private lead(signal: AbortSignal): Promise<void> {
    return runSteps(signal, { label: 'billing process', logger: this.logger, idlePollMs: this.options.idlePollMs ?? 250, retry: RETRY_BACKOFF }, () => this.runOnce());
  }
}
