import { AuditLog } from '../src/application/audit/audit-log.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CommandContext } from '../src/application/command-context.js';
import { PaymentCommandHandlers } from '../src/application/payments/payment-command-handlers.js';
import type { Position } from '../src/application/ports/position.js';
import { START, isAfter } from '../src/application/ports/position.js';
import { WebhookEndpoints } from '../src/application/webhooks/webhook-endpoints.js';
import { toCurrencyCode } from '../src/domain/currency.js';
import { moneyOf } from '../src/domain/money.js';
import { allMigrations } from '../src/infrastructure/postgres/all-migrations.js';
import { PostgresEventStore } from '../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { migrate } from '../src/infrastructure/postgres/migrator.js';
import { PostgresProjectionStore } from '../src/infrastructure/postgres/projections/postgres-projection-store.js';
import { sqlExecutor } from '../src/infrastructure/postgres/sql-executor.js';
import { PostgresWebhookEndpoints } from '../src/infrastructure/postgres/webhooks/postgres-webhook-endpoints.js';
import { WebhookDeliveryQueue } from '../src/infrastructure/postgres/webhooks/webhook-delivery-queue.js';
import { SimulatedPaymentProvider } from '../src/infrastructure/simulated-provider/simulated-payment-provider.js';
import { SystemIdGenerator } from '../src/infrastructure/system/id-generator.js';
import { SystemClock } from '../src/infrastructure/system/system-clock.js';
import { SIGNATURE_HEADER, newSigningSecret, signatureHeader } from '../src/infrastructure/webhooks/signature.js';
import { webhookUrlPolicy } from '../src/infrastructure/webhooks/url-policy.js';
import { WebhookFanout } from '../src/infrastructure/webhooks/webhook-fanout.js';
import { createWebhookPoster } from '../src/infrastructure/webhooks/webhook-http.js';
import { WebhookPayloads } from '../src/infrastructure/webhooks/webhook-payloads.js';
import { WebhookSender } from '../src/infrastructure/webhooks/webhook-sender.js';
import { withBenchDatabase } from './support/db.js';
import { forEachConcurrently } from './support/load.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, now } from './support/stats.js';

/*
 * Outbound webhooks (README, "Webhooks"): deliveries per second from the sender to a local
 * receiver (node:http on 127.0.0.1 answering 200 at once), everything in this process.
 * The deliveries are fanned out first (payments made, the fan-out drained), then the
 * sender starts and the clock runs until every delivery is recorded `succeeded`: each is
 * a lease-guarded claim, a signed POST over a keep-alive connection, and the attempt
 * recorded (one statement). Two settings: one endpoint (its deliveries go one at a time,
 * in order: the per-endpoint bound), and 16 endpoints (parallel across endpoints, up to
 * WEBHOOK_CONCURRENCY = 16 in flight).
 *
 * Baseline, same run, same receiver: raw signed POSTs (the same body, HMAC per request)
 * from a plain loop with the same concurrency (1, then 16), nothing stored. The ratio says
 * what the durable, ordered, retried delivery costs over the bare POST. No target was set.
 */

const ctx: CommandContext = { correlationId: 'bench-webhooks', actor: 'bench', customerScope: null };
const CONCURRENCY = 16;
const SETTINGS = [
  { endpoints: 1, full: 2_000, quick: 200 },
  { endpoints: 16, full: 250, quick: 25 },
] as const;
const TIME_LIMIT_MS = 600_000;

async function receiver(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => n,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function rawPosts(url: string, body: string, count: number, concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const secret = newSigningSecret();
  const post = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader([secret], Math.floor(Date.now() / 1000), body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const t0 = now();
  await forEachConcurrently(count, concurrency, TIME_LIMIT_MS, post);
  const ms = now() - t0;
  agent.destroy();
  return count / (ms / 1000);
}

async function run(bench: BenchContext): Promise<Row[]> {
  return withBenchDatabase('webhooks', async (db) => {
    const pool = db.createPool(20, 'bench-webhooks');
    await migrate(pool, allMigrations);
    const clock = new SystemClock();
    const ids = new SystemIdGenerator();
    const eventStore = new PostgresEventStore(pool);
    const projectionStore = new PostgresProjectionStore(pool);
    const sql = sqlExecutor(pool);
    const store = new PostgresWebhookEndpoints(pool);
    const queue = new WebhookDeliveryQueue(sql);
    const poster = createWebhookPoster({ timeoutMs: 10_000, allowPrivate: true, maxSockets: CONCURRENCY });
    const sender = new WebhookSender({ queue, poster, clock }, { concurrency: CONCURRENCY, timeoutMs: 10_000 });
    const fanout = new WebhookFanout(
      { eventStore, store: projectionStore, queue, payloads: new WebhookPayloads(eventStore, { latestInvoiceIds: () => Promise.resolve(new Map()) }), ids, clock },
      { instanceId: 'bench' },
    );
    const endpoints = new WebhookEndpoints({ store, eventStore, urlPolicy: webhookUrlPolicy({ production: false, allowPrivate: true }), newSecret: newSigningSecret, ids, clock, audit: new AuditLog(eventStore, clock, ids) });
    const payments = new PaymentCommandHandlers(eventStore, new SimulatedPaymentProvider(), clock, ids);
    const target = await receiver();
    const rows: Row[] = [];
    try {
      for (const setting of SETTINGS) {
        const perEndpoint = bench.quick ? setting.quick : setting.full;
        for (const e of await store.list({ limit: 100 })) await endpoints.delete(e.id, ctx);
        for (let i = 0; i < setting.endpoints; i++) {
          const created = await endpoints.create({ url: `${target.url}/e${i}`, events: ['payment.succeeded'] }, ctx);
          if (!created.ok) throw new Error(created.error.code);
        }
        let last: Position = START;
        await forEachConcurrently(perEndpoint, 8, TIME_LIMIT_MS, async (i) => {
          const paid = await payments.create({ customerId: `cus_w${i % 50}`, amount: moneyOf(1_000 + i, toCurrencyCode('USD')), paymentMethod: 'pm_card_visa', captureMethod: 'automatic', description: null, metadata: { order: `o-${i}` } }, ctx);
          if (!paid.ok) throw new Error(paid.error.code);
          if (isAfter(paid.value.position, last)) last = paid.value.position;
        });
        const tf = now();
        const fanned = await fanout.drainTo(last, TIME_LIMIT_MS);
        const fanoutMs = now() - tf;
        const deliveries = perEndpoint * setting.endpoints;
        if (fanned !== deliveries) throw new Error(`fan-out wrote ${fanned} deliveries, expected ${deliveries}`);
        const body = (await pool.query<{ payload: string }>(`SELECT payload FROM webhook_deliveries LIMIT 1`)).rows[0]?.payload ?? '{}';

        const before = target.count();
        const t0 = now();
        sender.start();
        for (;;) {
          const { rows: left } = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM webhook_deliveries WHERE status <> 'succeeded'`);
          if (left[0]?.n === '0') break;
          if (now() - t0 > TIME_LIMIT_MS) throw new Error('deliveries did not finish in time');
          await new Promise((r) => setTimeout(r, 10));
        }
        const sendMs = now() - t0;
        await sender.stop();
        const rate = deliveries / (sendMs / 1000);
        if (target.count() - before !== deliveries) bench.log(`  note: the receiver got ${target.count() - before} requests for ${deliveries} deliveries`);
        const baselineConcurrency = Math.min(setting.endpoints, CONCURRENCY);
        const baseline = await rawPosts(`${target.url}/raw`, body, deliveries, baselineConcurrency);
        bench.log(`  ${setting.endpoints} endpoint(s): fan-out of ${fmtInt(deliveries)} deliveries in ${fmtMs(fanoutMs)}; sent in ${fmtMs(sendMs)} (${fmtInt(rate)}/s); raw POSTs at concurrency ${baselineConcurrency}: ${fmtInt(baseline)}/s`);
        await pool.query(`DELETE FROM webhook_deliveries`);
        rows.push({
          benchmark: 'webhooks',
          setting: `${setting.endpoints} endpoint(s), ${fmtInt(deliveries)} deliveries`,
          figure: `${fmtInt(rate)} deliveries/s`,
          baseline: `${fmtInt(baseline)} raw signed POSTs/s (concurrency ${baselineConcurrency})`,
          ratio: rate / baseline,
          target: 'none (reported)',
          pass: undefined,
          values: { rate, baselinePerSecond: baseline, deliveries, endpoints: setting.endpoints, fanoutMs, sendMs },
        });
      }
    } finally {
      await sender.stop();
      poster.close();
      await target.close();
      await projectionStore.close();
      await eventStore.close();
    }
    return rows;
  });
}

export const webhooksBenchmark: Benchmark = { name: 'webhooks', run };
