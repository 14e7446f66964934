import { loadConfig } from '../src/infrastructure/config/config.js';
import { TOKENS } from '../src/infrastructure/container/tokens.js';
import { createLogger } from '../src/infrastructure/logging/logger.js';
import { startService } from '../src/infrastructure/service.js';
import { benchToken } from './support/auth.js';
import { withBenchDatabase } from './support/db.js';
import { newPaymentId, paymentCreatedEvents, paymentStream } from './support/payloads.js';
import { RealtimeClients } from './support/realtime-clients.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, now, summarize } from './support/stats.js';

/*
 * Append → Socket.IO latency through the whole path: an append through the service's own
 * event store port, the payments projection (read model + realtime_changes in one
 * transaction), the change-feed tailer, the hub, Socket.IO, a client. N subscribers (in a
 * worker thread) each follow one `customer:<id>` topic; appends for those customers arrive
 * at a fixed rate (open loop). Latency = a client receiving a change − the start of the
 * append that caused it (wall clock, same process). No baseline: the target is absolute.
 */

const TARGET_P99_MS = 50;
const TARGET_SUBSCRIBERS = 1_000;

const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run(ctx: BenchContext): Promise<Row[]> {
  const subscribers = ctx.quick ? 100 : TARGET_SUBSCRIBERS;
  const topicCount = ctx.quick ? 20 : 100;
  const appendsPerSecond = ctx.quick ? 20 : 50;
  const durationMs = ctx.quick ? 1_500 : 5_000;
  const topics = Array.from({ length: topicCount }, (_, i) => `customer:rt_${i}`);
  const changesPerAppend = 2; // PaymentAuthorized → payment.created, PaymentCaptured → payment.updated

  return withBenchDatabase('realtime', async (db) => {
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' });
    const service = await startService(config, createLogger({ level: 'silent' }));
    let clients: RealtimeClients | undefined;
    try {
      const auth = await benchToken(db.url, 'payments:read');
      ctx.log(`  handshake token: ${auth.source}`);
      const started = await RealtimeClients.start(
        { url: service.url, subscribers, topics, connectConcurrency: 50, maxDeliveries: 1_000_000, token: auth.token },
        60_000,
      );
      clients = started.clients;
      const { ready } = started;
      if (ready.failed > 0) throw new Error(`${ready.failed} of ${subscribers} subscribers could not subscribe, first: ${ready.firstError ?? '?'}`);
      ctx.log(`  ${fmtInt(ready.connected)} Socket.IO clients connected and subscribed (${topicCount} customer topics) in ${fmtMs(ready.ms)}`);
      await sleep(500);

      const eventStore = service.container.get(TOKENS.EventStore);
      const startedAt = new Map<string, number>();
      const appends: Promise<void>[] = [];
      const count = Math.round((appendsPerSecond * durationMs) / 1000);
      const interval = 1000 / appendsPerSecond;
      const t0 = now();
      for (let i = 0; i < count; i++) {
        const wait = t0 + i * interval - now();
        if (wait > 0) await sleep(wait);
        const id = newPaymentId();
        const customer = (topics[i % topicCount] as string).slice('customer:'.length);
        startedAt.set(id, wallNow());
        appends.push(eventStore.append(paymentStream(id), paymentCreatedEvents(id, customer, 1_000 + i), 'no_stream').then(() => undefined));
      }
      await Promise.all(appends);
      const expected = count * changesPerAppend * (subscribers / topicCount);
      const settleUntil = now() + 5_000;
      while (clients.delivered < expected && now() < settleUntil) await sleep(50);
      const deliveries = await clients.stop();
      clients = undefined;

      const latencies: number[] = [];
      for (let i = 0; i < deliveries.ids.length; i++) {
        const start = startedAt.get(deliveries.ids[i] as string);
        if (start !== undefined) latencies.push((deliveries.at[i] as number) - start);
      }
      const s = summarize(latencies);
      ctx.log(
        `  ${fmtInt(count)} appends at ${appendsPerSecond}/s → ${fmtInt(latencies.length)} of ${fmtInt(expected)} expected deliveries; ` +
          `latency p50 ${fmtMs(s.p50)}, p90 ${fmtMs(s.p90)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(s.max)}`,
      );
      const complete = latencies.length >= expected;
      return [
        {
          benchmark: 'realtime append → Socket.IO change',
          setting: `${fmtInt(subscribers)} subscribers, ${appendsPerSecond} appends/s`,
          figure: `p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)} (${fmtInt(latencies.length)}/${fmtInt(expected)} delivered)`,
          baseline: '—',
          ratio: undefined,
          target: `p99 < ${TARGET_P99_MS} ms @ ${fmtInt(TARGET_SUBSCRIBERS)}`,
          // Fewer subscribers than the target names (BENCH_QUICK) is only indicative.
          pass: subscribers >= TARGET_SUBSCRIBERS ? complete && s.p99 < TARGET_P99_MS : undefined,
        },
      ];
    } finally {
      await clients?.terminate();
      await service.stop();
    }
  });
}

export const realtimeBenchmark: Benchmark = { name: 'realtime', run };
