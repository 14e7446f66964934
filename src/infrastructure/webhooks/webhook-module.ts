import type pg from 'pg';
import type { Clock } from '../../application/ports/clock.js';
import type { EventStore } from '../../application/ports/event-store.js';
import type { IdGenerator } from '../../application/ports/id-generator.js';
import type { ProjectionStore } from '../../application/ports/projection-store.js';
import { AuditLog } from '../../application/audit/audit-log.js';
import { WebhookEndpoints } from '../../application/webhooks/webhook-endpoints.js';
import type { ProjectionLogger } from '../../projections/logger.js';
import type { BackgroundTask } from '../container/lifecycle.js';
import type { WebhookHttpDeps } from '../http/routes/webhook-endpoints.js';
import { PostgresWebhookEndpoints } from '../postgres/webhooks/postgres-webhook-endpoints.js';
import { WebhookDeliveryQueue } from '../postgres/webhooks/webhook-delivery-queue.js';
import { pruneFinishedDeliveries } from '../postgres/webhooks/webhook-delivery-retention.js';
import { sqlExecutor } from '../postgres/sql-executor.js';
import { newSigningSecret } from './signature.js';
import { webhookUrlPolicy } from './url-policy.js';
import { WebhookFanout } from './webhook-fanout.js';
import { createWebhookPoster } from './webhook-http.js';
import type { LatestInvoices } from './webhook-payloads.js';
import { WebhookPayloads } from './webhook-payloads.js';
import { WebhookSender } from './webhook-sender.js';

/*
 * Outbound webhooks, assembled (README, "Webhooks"): what the composition root needs to
 * serve /v1/webhook-endpoints and to run the fan-out (one leader) and the sender (every
 * instance). Kept out of composition-root.ts so that file only gains a few lines.
 */

const DEFAULT_RETENTION_DAYS = 30;

export interface WebhookSettings {
  readonly production: boolean;
  readonly allowPrivateUrls: boolean;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly instanceId: string;
  readonly batchSize?: number;
  /** Sender's longest pause between looks when idle (default 500 ms). */
  readonly pollMs?: number;
  /** Finished deliveries are deleted after this many days (default 30). */
  readonly retentionDays?: number;
}

export interface WebhookParts {
  readonly http: WebhookHttpDeps;
  readonly fanout: WebhookFanout;
  readonly sender: WebhookSender;
  readonly queue: WebhookDeliveryQueue;
  /** Deletes finished deliveries past the retention (a bounded run); how many. For the pruning task. */
  readonly pruneFinished: () => Promise<number>;
  /** Fan-out and sender as background tasks (the fan-out only where projections run). */
  readonly tasks: (options: { readonly fanout: boolean }) => BackgroundTask[];
}

export function buildWebhooks(
  deps: {
    readonly pool: pg.Pool;
    readonly eventStore: EventStore;
    readonly projectionStore: ProjectionStore;
    readonly latestInvoices: LatestInvoices;
    readonly clock: Clock;
    readonly ids: IdGenerator;
    readonly logger: ProjectionLogger;
  },
  settings: WebhookSettings,
): WebhookParts {
  const sql = sqlExecutor(deps.pool);
  const store = new PostgresWebhookEndpoints(deps.pool);
  const queue = new WebhookDeliveryQueue(sql);
  const poster = createWebhookPoster({ timeoutMs: settings.timeoutMs, allowPrivate: settings.allowPrivateUrls, maxSockets: settings.concurrency });
  const sender = new WebhookSender({ queue, poster, clock: deps.clock }, { concurrency: settings.concurrency, timeoutMs: settings.timeoutMs, logger: deps.logger, ...(settings.pollMs ? { pollMs: settings.pollMs } : {}) });
  const fanout = new WebhookFanout(
    { eventStore: deps.eventStore, store: deps.projectionStore, queue, payloads: new WebhookPayloads(deps.eventStore, deps.latestInvoices), ids: deps.ids, clock: deps.clock },
    { instanceId: settings.instanceId, logger: deps.logger, onDeliveries: () => sender.wake(), ...(settings.batchSize ? { batchSize: settings.batchSize } : {}) },
  );
  const endpoints = new WebhookEndpoints({
    store,
    eventStore: deps.eventStore,
    urlPolicy: webhookUrlPolicy({ production: settings.production, allowPrivate: settings.allowPrivateUrls }),
    newSecret: newSigningSecret,
    ids: deps.ids,
    clock: deps.clock,
    audit: new AuditLog(deps.eventStore, deps.clock, deps.ids),
  });
  return {
    http: { endpoints, store, resend: (endpointId, deliveryId) => sender.resend(endpointId, deliveryId), clock: deps.clock },
    fanout,
    sender,
    queue,
    pruneFinished: () => pruneFinishedDeliveries(sql, deps.clock.now(), settings.retentionDays ?? DEFAULT_RETENTION_DAYS),
    tasks: (options) => [
      ...(options.fanout ? [{ name: 'webhook-fanout', start: () => fanout.start(), stop: () => fanout.stop() }] : []),
      {
        name: 'webhook-sender',
        start: () => sender.start(),
        stop: async () => {
          await sender.stop();
          poster.close();
        },
      },
    ],
  };
}
