import { pathToFileURL } from 'node:url';
import type { CommandContext } from '../../../src/application/command-context.js';
import { AuditLog } from '../../../src/application/audit/audit-log.js';
import { PaymentCommandHandlers } from '../../../src/application/payments/payment-command-handlers.js';
import type { PaymentView } from '../../../src/application/payments/payment-view.js';
import type { Clock } from '../../../src/application/ports/clock.js';
import type { Position } from '../../../src/application/ports/position.js';
import { START, isAfter } from '../../../src/application/ports/position.js';
import { WebhookEndpoints } from '../../../src/application/webhooks/webhook-endpoints.js';
import { moneyOf } from '../../../src/domain/money.js';
import { allMigrations } from '../../../src/infrastructure/postgres/all-migrations.js';
import { PostgresEventStore } from '../../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { migrate } from '../../../src/infrastructure/postgres/migrator.js';
import { PostgresProjectionStore } from '../../../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { sqlExecutor } from '../../../src/infrastructure/postgres/sql-executor.js';
import { PostgresWebhookEndpoints } from '../../../src/infrastructure/postgres/webhooks/postgres-webhook-endpoints.js';
import { WebhookDeliveryQueue } from '../../../src/infrastructure/postgres/webhooks/webhook-delivery-queue.js';
import { SimulatedPaymentProvider } from '../../../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../../../src/infrastructure/system/id-generator.js';
import { newSigningSecret } from '../../../src/infrastructure/webhooks/signature.js';
import { webhookUrlPolicy } from '../../../src/infrastructure/webhooks/url-policy.js';
import { WebhookFanout } from '../../../src/infrastructure/webhooks/webhook-fanout.js';
import { createWebhookPoster } from '../../../src/infrastructure/webhooks/webhook-http.js';
import { WebhookPayloads } from '../../../src/infrastructure/webhooks/webhook-payloads.js';
import { WebhookSender } from '../../../src/infrastructure/webhooks/webhook-sender.js';
import type { TestDatabase } from '../../support/pg.js';
import { createTestDatabase } from '../../support/pg.js';

/** A clock the test moves by hand: no real waiting for a 3-day schedule. */
export class SteppedClock implements Clock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  step(ms: number): void {
    this.ms += ms;
  }
  set(at: Date): void {
    this.ms = at.getTime();
  }
}

export type Verify = (rawBody: string | Buffer, header: string | undefined, secret: string, options?: { toleranceSeconds?: number; now?: number }) => boolean;

/** The README's snippet, as published (docs/webhook-verification-snippet.js), executed as is. */
export async function readmeSnippet(): Promise<Verify> {
  const url = pathToFileURL(new URL('../../../docs/webhook-verification-snippet.js', import.meta.url).pathname).href;
  return ((await import(url)) as { verifyLedgerSignature: Verify }).verifyLedgerSignature;
}

export interface WebhookRig {
  readonly db: TestDatabase;
  readonly clock: SteppedClock;
  readonly endpoints: WebhookEndpoints;
  readonly store: PostgresWebhookEndpoints;
  readonly fanout: WebhookFanout;
  readonly sender: WebhookSender;
  readonly queue: WebhookDeliveryQueue;
  readonly eventStore: PostgresEventStore;
  readonly projectionStore: PostgresProjectionStore;
  /** A captured card payment (automatic capture): one `payment.succeeded`. */
  pay(amount?: number, captureMethod?: 'automatic' | 'manual'): Promise<PaymentView>;
  /** Fans out everything written so far; the deliveries it inserted. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

const ctx: CommandContext = { correlationId: 'webhook-test', actor: 'test' };

/** The outbound webhook parts on a fresh database, on a stepped clock, with private URLs allowed (local receivers). */
export async function webhookRig(
  label: string,
  options: { timeoutMs?: number; concurrency?: number; payloads?: (real: WebhookPayloads) => Pick<WebhookPayloads, 'build'> } = {},
): Promise<WebhookRig> {
  const db = await createTestDatabase(label);
  await migrate(db.pool, allMigrations);
  const clock = new SteppedClock(Date.parse('2026-03-01T12:00:00.000Z'));
  const ids = new SystemIdGenerator();
  const eventStore = new PostgresEventStore(db.pool, { pollIntervalMs: 50 });
  const projectionStore = new PostgresProjectionStore(db.pool, { leaseHeartbeatMs: 200 });
  const sql = sqlExecutor(db.pool);
  const store = new PostgresWebhookEndpoints(db.pool);
  const queue = new WebhookDeliveryQueue(sql);
  const timeoutMs = options.timeoutMs ?? 2_000;
  const poster = createWebhookPoster({ timeoutMs, allowPrivate: true, maxSockets: 8 });
  // Jitter pinned to its middle: the schedule is then exactly 30 s, 60 s, 120 s, …
  const sender = new WebhookSender({ queue, poster, clock }, { concurrency: options.concurrency ?? 8, timeoutMs, pollMs: 50, random: () => 0.5 });
  const fanout = new WebhookFanout(
    { eventStore, store: projectionStore, queue, payloads: (options.payloads ?? ((real) => real))(new WebhookPayloads(eventStore, { latestInvoiceIds: () => Promise.resolve(new Map()) })), ids, clock },
    { instanceId: 'test', idlePollMs: 20, onDeliveries: () => sender.wake() },
  );
  const endpoints = new WebhookEndpoints({ store, eventStore, urlPolicy: webhookUrlPolicy({ production: false, allowPrivate: true }), newSecret: newSigningSecret, ids, clock, audit: new AuditLog(eventStore, clock, ids) });
  const payments = new PaymentCommandHandlers(eventStore, new SimulatedPaymentProvider(), clock, ids);
  let last: Position = START;
  return {
    db,
    clock,
    endpoints,
    store,
    fanout,
    sender,
    queue,
    eventStore,
    projectionStore,
    async pay(amount = 1_000, captureMethod = 'automatic') {
      const created = await payments.create({ customerId: 'cus_hooks', amount: moneyOf(amount, 'USD'), paymentMethod: 'pm_card_visa', captureMethod, description: null, metadata: { order: String(amount) } }, ctx);
      if (!created.ok) throw new Error(`payment not created: ${JSON.stringify(created.error)}`);
      if (isAfter(created.value.position, last)) last = created.value.position;
      return created.value.payment;
    },
    drain: () => fanout.drainTo(last),
    async close() {
      await fanout.stop();
      await sender.stop();
      poster.close();
      await projectionStore.close();
      await eventStore.close();
      await db.drop();
    },
  };
}
