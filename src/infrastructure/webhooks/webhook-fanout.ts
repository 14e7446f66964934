import type { Clock } from '../../application/ports/clock.js';
import type { EventStore, RecordedEvent } from '../../application/ports/event-store.js';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import type { Position } from '../../application/ports/position.js';
import { START, formatPosition, isAfter } from '../../application/ports/position.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import type { WebhookEndpoint } from '../../application/ports/webhooks.js';
import { sleep } from '../../application/support/timing.js';
import { matchesAny } from '../../application/webhooks/event-patterns.js';
import type { WebhookMapping } from '../../application/webhooks/webhook-event-types.js';
import { webhookMappingOf } from '../../application/webhooks/webhook-event-types.js';
import { ok } from '../../domain/result.js';
import { LeasedLoop, runSteps } from '../../projections/lease-loop.js';
import type { ProjectionLogger } from '../../projections/logger.js';
import { describeError, silentLogger } from '../../projections/logger.js';
import type { NewDelivery, WebhookDeliveryQueue } from '../postgres/webhooks/webhook-delivery-queue.js';
import { insertDeliveries } from '../postgres/webhooks/webhook-delivery-queue.js';
import type { WebhookPayloads } from './webhook-payloads.js';

/*
 * The fan-out (README, "Webhooks"): one leader across instances follows the log from its
 * checkpoint and, for each event the mapping table sends, inserts one delivery per
 * matching enabled endpoint, in the same transaction as the checkpoint move. A crash
 * before the commit re-reads the batch and writes it then; after it, the rows are there
 * and the batch is not read again: exactly one delivery row per (endpoint, event), and
 * the sender turns that into at-least-once delivery.
 *
 * The checkpoint is a projection record without tables (as the billing process manager's
 * is), so `ledger projections status` shows it and its lease is the projections' lease.
 */

export const WEBHOOK_FANOUT_NAME = 'webhook_fanout';
const SPEC = { name: WEBHOOK_FANOUT_NAME, version: 1, schemaSql: '' } as const;
/** The delivery tables live in the service's own schema, not in a projection schema. */
const TABLE_SCHEMA = 'public';
const RETRY_BACKOFF = { minMs: 500, maxMs: 30_000 } as const;

export interface WebhookFanoutOptions {
  readonly instanceId: string;
  /** Events read per batch (= per transaction). Default 500. */
  readonly batchSize?: number;
  /** Pause when the log has nothing new. Default 200 ms. */
  readonly idlePollMs?: number;
  readonly leaseRetryMs?: number;
  readonly logger?: ProjectionLogger;
  /** Told after a batch that inserted deliveries (the local sender looks at once). */
  readonly onDeliveries?: () => void;
}

export type FanoutStep = { readonly kind: 'idle' } | { readonly kind: 'moved' } | { readonly kind: 'committed'; readonly to: Position; readonly deliveries: number };

export class WebhookFanout {
  private readonly batchSize: number;
  private readonly logger: ProjectionLogger;
  private registered = false;
  /** Until cleared once: an earlier run, here or in another instance, may have left a failure on the record. */
  private failureMayBeRecorded = true;
  private readonly loop: LeasedLoop;

  constructor(
    private readonly deps: {
      readonly eventStore: EventStore;
      readonly store: ProjectionStore;
      readonly queue: Pick<WebhookDeliveryQueue, 'enabledEndpoints'>;
      readonly payloads: Pick<WebhookPayloads, 'build'>;
      readonly ids: IdGenerator;
      readonly clock: Clock;
    },
    private readonly options: WebhookFanoutOptions,
  ) {
    this.batchSize = Math.min(10_000, Math.max(1, Math.floor(options.batchSize ?? 500)));
    this.logger = options.logger ?? silentLogger;
    this.loop = new LeasedLoop(
      { leases: this.deps.store, name: WEBHOOK_FANOUT_NAME, holder: options.instanceId, retryMs: options.leaseRetryMs ?? 1_500, logger: this.logger },
      (signal) => this.lead(signal),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch from the stored checkpoint. Exposed for tests (which drive it without the lease). */
  async runOnce(): Promise<FanoutStep> {
    await this.register();
    const from = (await this.deps.store.readCheckpoints([WEBHOOK_FANOUT_NAME])).get(WEBHOOK_FANOUT_NAME) ?? START;
    const events = await this.deps.eventStore.readAll({ after: from, maxCount: this.batchSize });
    const first = events[0];
    if (!first) {
      await this.clearFailure();
      return { kind: 'idle' };
    }
    let step: FanoutStep;
    try {
      step = await this.fanOut(from, events);
    } catch (error) {
      await this.recordFailure(first, error);
      throw error;
    }
    await this.clearFailure();
    return step;
  }

  private async fanOut(from: Position, events: readonly RecordedEvent[]): Promise<FanoutStep> {
    const last = events.at(-1) as RecordedEvent;
    const deliveries = await this.deliveriesFor(events);
    const at = this.deps.clock.now();
    let inserted = 0;
    const outcome = await this.deps.store.commitBatch({ ...SPEC, schema: TABLE_SCHEMA, from, to: last.position }, async (sql) => {
      inserted = await insertDeliveries(sql, deliveries, at);
      return ok([]);
    });
    if (outcome.kind !== 'committed') return { kind: 'moved' };
    if (inserted > 0) this.options.onDeliveries?.();
    return { kind: 'committed', to: last.position, deliveries: inserted };
  }

  /**
   * Runs batches until the checkpoint has passed `target` (the position of a write the
   * caller made), for tests and benchmarks. An idle read does not mean caught up: the log
   * shows an event only once every older transaction has ended (docs/architecture.md,
   * "Event store"), so it waits and reads again, up to `timeoutMs`.
   */
  async drainTo(target: Position, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let total = 0;
    for (;;) {
      const step = await this.runOnce();
      if (step.kind === 'committed') {
        total += step.deliveries;
        if (!isAfter(target, step.to)) return total;
      } else if (step.kind === 'idle') {
        const checkpoint = (await this.deps.store.readCheckpoints([WEBHOOK_FANOUT_NAME])).get(WEBHOOK_FANOUT_NAME) ?? START;
        if (!isAfter(target, checkpoint)) return total;
        if (Date.now() > deadline) throw new Error(`webhook fan-out: ${formatPosition(target)} not reached within ${timeoutMs} ms`);
        await sleep(10);
      }
    }
  }

  private async deliveriesFor(events: readonly RecordedEvent[]): Promise<NewDelivery[]> {
    const mapped = events.flatMap((event) => {
      const mapping = webhookMappingOf(event.type);
      return mapping ? [{ event, mapping }] : [];
    });
    if (mapped.length === 0) return [];
    const endpoints = await this.deps.queue.enabledEndpoints();
    if (endpoints.length === 0) return [];
    // Fold only what some endpoint may want: a row's possible types against the subscriptions.
    const wanted = mapped.filter(({ event, mapping }) => endpoints.some((e) => mayWant(e, event, mapping)));
    if (wanted.length === 0) return [];
    const payloads = await this.deps.payloads.build(wanted);
    const out: NewDelivery[] = [];
    for (const { event } of wanted) {
      const payload = payloads.get(event.id);
      if (!payload) continue;
      for (const endpoint of endpoints) {
        if (!isAfter(event.position, endpoint.after) || !matchesAny(endpoint.events, payload.type)) continue;
        out.push({
          id: this.deps.ids.deterministic('wd_', `${endpoint.id}:${event.id}`, event.recordedAt),
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_type: payload.type,
          payload: payload.body,
        });
      }
    }
    return out;
  }

  /*
   * A batch that throws is retried from the checkpoint with backoff (runSteps), which a
   * log line alone leaves invisible: the record then carries the failure the way a failed
   * projection's does (status `failed`, its error, the first event of the stuck batch), so
   * `GET /v1/admin/projections` and `ledger projections status` show it. Unlike a
   * projection the fan-out keeps retrying on its own, and the first batch that gets through
   * clears it. Trouble of the store itself (connection lost, shutdown) is not recorded, as
   * the projection worker does not record it: writing the failure would fail the same way.
   */
  private async recordFailure(first: RecordedEvent, error: unknown): Promise<void> {
    if (this.deps.store.isTransientError(error)) return;
    this.failureMayBeRecorded = true;
    try {
      await this.deps.store.recordFailure(WEBHOOK_FANOUT_NAME, { message: `batch failed: ${describeError(error)}`, position: first.position, eventId: first.id });
    } catch (recordError) {
      this.logger.warn({ err: describeError(recordError) }, 'webhook fan-out: could not record the batch failure');
    }
  }

  /** One write after a failure (or after taking over, when a previous run may have left one), none per batch otherwise. */
  private async clearFailure(): Promise<void> {
    if (!this.failureMayBeRecorded) return;
    await this.deps.store.clearFailure(WEBHOOK_FANOUT_NAME);
    this.failureMayBeRecorded = false;
  }

  private async register(): Promise<void> {
    if (this.registered) return;
    await this.deps.store.register(SPEC);
    this.registered = true;
  }

  private lead(signal: AbortSignal): Promise<void> {
    return runSteps(signal, { label: 'webhook fan-out', logger: this.logger, idlePollMs: this.options.idlePollMs ?? 200, retry: RETRY_BACKOFF }, () => this.runOnce());
  }
}

const mayWant = (endpoint: WebhookEndpoint, event: RecordedEvent, mapping: WebhookMapping): boolean =>
  isAfter(event.position, endpoint.after) && mapping.types.some((t) => matchesAny(endpoint.events, t));
