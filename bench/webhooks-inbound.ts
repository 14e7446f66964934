import { randomBytes } from 'node:crypto';
import http from 'node:http';
import Stripe from 'stripe';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { createLogger } from '../src/infrastructure/logging/logger.js';
import { startService } from '../src/infrastructure/service.js';
import { withBenchDatabase } from './support/db.js';
import { forEachConcurrently } from './support/load.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { LatencyRecorder, fmtInt, fmtMs, now, summarize } from './support/stats.js';

/*
 * Stripe webhook acknowledgement latency (BENCH_ONLY=webhooks-inbound): signed events
 * POSTed to /v1/webhooks/stripe of the whole service (in this process, inbox processor
 * running), one client and then 8, over keep-alive connections. The acknowledgement is the
 * signature check plus one INSERT into the inbox, so the baseline is that INSERT alone,
 * issued from this process on a pool like the service's: the ratio is what verification,
 * Express and HTTP add. The events are of a type Ledger ignores, so the processor's work
 * (one claim and one update per event) competes for the CPUs without calling any processor.
 * Drain: how long until every recorded event was processed, after the last acknowledgement
 * (WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS=0 here, so it measures the processor, not the wait).
 */

const SECRET = 'whsec_bench_0123456789abcdef';
const FULL_POSTS = 1_000;
const QUICK_POSTS = 200;
const CONCURRENCIES = [1, 8] as const;
const DRAIN_LIMIT_MS = 120_000;

function signedEvent(): { payload: string; header: string } {
  const payload = JSON.stringify({
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    type: 'balance.available',
    api_version: '2025-01-27.acacia',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { object: 'balance', available: [{ amount: 12_345, currency: 'usd' }], pending: [] } },
  });
  return { payload, header: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
}

function post(agent: http.Agent, port: number, payload: string, header: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/webhooks/stripe', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'stripe-signature': header } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function run(bench: BenchContext): Promise<Row[]> {
  const count = bench.quick ? QUICK_POSTS : FULL_POSTS;
  return withBenchDatabase('webhooks', async (db) => {
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', STRIPE_WEBHOOK_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '1000000', WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS: '0' });
    const service = await startService(config, createLogger({ level: 'silent' }));
    const pool = db.createPool(config.DATABASE_POOL_MAX, 'bench-webhooks');
    const rows: Row[] = [];
    try {
      for (const concurrency of CONCURRENCIES) {
        const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
        const events = Array.from({ length: count }, signedEvent);
        // Warm-up: connections, JIT, the first statements' plans.
        await forEachConcurrently(50, concurrency, 60_000, async () => {
          const e = signedEvent();
          await post(agent, service.port, e.payload, e.header);
        });
        const ack = new LatencyRecorder();
        const t0 = now();
        await forEachConcurrently(count, concurrency, 600_000, async (i) => {
          const e = events[i] as { payload: string; header: string };
          const started = now();
          const status = await post(agent, service.port, e.payload, e.header);
          ack.record(now() - started);
          if (status !== 200) throw new Error(`webhook answered ${status}`);
        });
        const lastAck = now();
        const elapsedMs = lastAck - t0;
        // Drain: every recorded event processed (ignored: a type Ledger does not act on).
        let drainMs = Number.NaN;
        while (now() - lastAck < DRAIN_LIMIT_MS) {
          const open = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM webhook_inbox WHERE status IN ('pending', 'processing')`);
          if (open.rows[0]?.n === '0') {
            drainMs = now() - lastAck;
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        agent.destroy();

        // Baseline: the acknowledgement's INSERT alone, same concurrency, same table.
        const raw = new LatencyRecorder();
        await forEachConcurrently(count, concurrency, 600_000, async () => {
          const e = signedEvent();
          const started = now();
          await pool.query(
            `INSERT INTO webhook_inbox (provider, event_id, type, object_id, provider_created_at, payload, status, next_attempt_at, processed_at)
             VALUES ('bench', $1, 'balance.available', NULL, now(), $2::jsonb, 'ignored', NULL, now()) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id`,
            [JSON.parse(e.payload).id as string, e.payload],
          );
          raw.record(now() - started);
        });
        const a = summarize(ack.values());
        const b = summarize(raw.values());
        bench.log(`  ${concurrency} client(s): ${fmtInt(count)} acks in ${fmtMs(elapsedMs)}: p50 ${fmtMs(a.p50)}, p99 ${fmtMs(a.p99)}, max ${fmtMs(a.max)}; drained ${fmtMs(drainMs)} after the last; raw INSERT p50 ${fmtMs(b.p50)}, p99 ${fmtMs(b.p99)}`);
        rows.push({
          benchmark: 'webhooks-inbound',
          setting: `${fmtInt(count)} signed posts, ${concurrency} client(s)`,
          figure: `ack p50 ${fmtMs(a.p50)}, p99 ${fmtMs(a.p99)}; ${fmtInt((count * 1000) / elapsedMs)}/s; drained ${fmtMs(drainMs)} after`,
          baseline: `raw INSERT p50 ${fmtMs(b.p50)}, p99 ${fmtMs(b.p99)}`,
          ratio: a.p50 / b.p50,
          target: 'none (reported): "2xx within a few ms"',
          pass: undefined,
          values: { concurrency, posts: count, p50Ms: a.p50, p99Ms: a.p99, maxMs: a.max, perSecond: (count * 1000) / elapsedMs, drainMs, baselineP50Ms: b.p50, baselineP99Ms: b.p99 },
        });
      }
      return rows;
    } finally {
      await service.stop();
    }
  });
}

export const webhooksInboundBenchmark: Benchmark = { name: 'webhooks-inbound', run };
