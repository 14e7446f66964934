import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { authorizationHeader, benchToken } from './support/auth.js';
import { BASELINE_TABLE } from './support/baseline-server.js';
import { CpuAccounting, cpuPerRequest, describeCpu, type CpuPerRequest } from './support/cpu-accounting.js';
import { describeProfile, mainThreadProfile, readProfile, summarizeProfile } from './support/cpu-profile.js';
import { ADMIN_URL, withBenchDatabase, type BenchDatabase } from './support/db.js';
import { runHttpLoad, type HttpLoadReport } from './support/http-load.js';
import { mib, RssSampler, type RssReport } from './support/proc-stats.js';
import { projectionCatchUp } from './support/projection-lag.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { startBaselineProcess, startServiceProcess, type ServerProcess } from './support/servers.js';
import { fmtInt, fmtMs, summarize, type LatencySummary } from './support/stats.js';
import { TransactionCounter, transactionsPerRequest } from './support/transaction-counter.js';

/*
 * POST /v1/payments against the service as deployed (`ledger serve`, a process of its own),
 * at 1, 8 and 32 clients, each request with a bearer token and a fresh Idempotency-Key, sent
 * by a closed-loop keep-alive load generator in another process. Baseline: a minimal
 * node:http server doing one raw INSERT per request (bench/support/baseline-server.ts), also
 * a process of its own, sent the very same requests: the ratio is what the service's layers
 * cost. For every run, each party's CPU time per request over the measured window
 * (/proc; bench/support/cpu-accounting.ts), and the service's RSS under the 32-client load.
 * Informational decomposition: without the Idempotency-Key; with projections off.
 * BENCH_PROFILE=1 adds one 32-client run under --cpu-prof and prints where its time went.
 */

const LEVELS = [1, 8, 32];
const TARGET_CONCURRENCY = 32;
const TARGET_RATIO = 0.6;
const TARGET_P99_MS = 25;
const TARGET_RSS_MIB = 250;
const CPUS = os.cpus().length;
const PROFILE = process.env.BENCH_PROFILE === '1' || process.env.BENCH_PROFILE === 'true';
const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

/** One load run against one server. */
interface Measurement {
  readonly report: HttpLoadReport;
  readonly latency: LatencySummary;
  readonly cpu: CpuPerRequest | undefined;
  readonly rss: RssReport | undefined;
  /** The measured window on process.hrtime's clock, µs (what a .cpuprofile's timestamps use). */
  readonly windowUs: readonly [number, number];
}

/** What every request carries. */
interface Load {
  readonly headers: Readonly<Record<string, string>>;
  readonly idempotencyKey: boolean;
}

const hrtimeUs = (): number => Number(process.hrtime.bigint() / 1000n);

function describe(m: Measurement): string {
  return `${fmtInt(m.report.rate)} req/s (p50 ${fmtMs(m.latency.p50)}, p99 ${fmtMs(m.latency.p99)})`;
}

async function measure(
  server: ServerProcess,
  clients: number,
  ctx: BenchContext,
  load: Load,
  accounting: CpuAccounting,
  sampleRss = false,
): Promise<Measurement> {
  let before: Awaited<ReturnType<CpuAccounting['snapshot']>> | undefined;
  let after: typeof before;
  const windowUs: [number, number] = [0, 0];
  const sampler = sampleRss ? new RssSampler(server.pid) : undefined;
  let report: HttpLoadReport;
  let rss: RssReport | undefined;
  try {
    report = await runHttpLoad(
      {
        headers: load.headers,
        idempotencyKey: load.idempotencyKey,
        url: server.url,
        path: '/v1/payments',
        concurrency: clients,
        warmupMs: ctx.quick ? 300 : 1_000,
        durationMs: ctx.quick ? 1_000 : 5_000,
        maxRequests: 1_000_000,
        expectStatus: 201,
      },
      {
        onWindowStart: async (loadGeneratorPid) => {
          windowUs[0] = hrtimeUs();
          before = await accounting.snapshot(server.pid, loadGeneratorPid);
        },
        onWindowEnd: async (loadGeneratorPid) => {
          windowUs[1] = hrtimeUs();
          after = await accounting.snapshot(server.pid, loadGeneratorPid);
        },
      },
    );
  } finally {
    rss = sampler?.stop();
  }
  if (report.errors > 0) throw new Error(`${report.errors} failed requests at ${clients} clients, first: ${report.firstError ?? '?'}`);
  const cpu = before !== undefined && after !== undefined ? cpuPerRequest(before, after, report.windowRequests, (windowUs[1] - windowUs[0]) / 1000, CPUS) : undefined;
  return { report, latency: summarize(report.latencies), cpu, rss, windowUs };
}

/** Runs `work` against one server process's whole lifetime; returns its database transactions per request. */
async function lifetime(
  counter: TransactionCounter,
  start: () => Promise<ServerProcess>,
  work: (server: ServerProcess) => Promise<number>,
  ctx: BenchContext,
): Promise<number> {
  return transactionsPerRequest(counter, async () => {
    const server = await start();
    try {
      return await work(server);
    } finally {
      const ended = await server.stop();
      if (ended !== 0) ctx.log(`  (server process ${server.pid} ended: ${String(ended)})`);
    }
  });
}

function logRun(ctx: BenchContext, label: string, m: Measurement, serverName: string): void {
  ctx.log(`  ${label}: ${describe(m)}`);
  if (m.cpu !== undefined) ctx.log(`      ${describeCpu(m.cpu, serverName)}`);
}

/** The numbers of a run, prefixed (service…, baseline…), for the JSON rows. */
function values(prefix: string, m: Measurement): Record<string, number> {
  const out: Record<string, number> = {
    [`${prefix}Rate`]: m.report.rate,
    [`${prefix}P50Ms`]: m.latency.p50,
    [`${prefix}P99Ms`]: m.latency.p99,
    [`${prefix}Requests`]: m.report.requests,
  };
  const c = m.cpu;
  if (c !== undefined) {
    if (c.serverUs !== undefined) out[`${prefix}CpuServerUs`] = c.serverUs;
    if (c.loadGeneratorUs !== undefined) out[`${prefix}CpuLoadGeneratorUs`] = c.loadGeneratorUs;
    out[`${prefix}CpuPostgresBackendsUs`] = c.postgresBackendsUs;
    out[`${prefix}CpuPostgresSharedUs`] = c.postgresSharedUs;
    if (c.machineUs !== undefined) out[`${prefix}CpuMachineUs`] = c.machineUs;
    out[`${prefix}CpuCapacityUs`] = c.capacityUs;
  }
  return out;
}

/** A 32-client run of the service under --cpu-prof; prints the top self-time functions and packages. */
async function profileRun(db: BenchDatabase, serviceEnv: Record<string, string>, load: Load, ctx: BenchContext, accounting: CpuAccounting): Promise<void> {
  const dir = resolve(RESULTS_DIR, `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const server = await startServiceProcess(serviceEnv, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  let m: Measurement;
  try {
    m = await measure(server, TARGET_CONCURRENCY, ctx, load, accounting);
    await projectionCatchUp(db.url, ctx.quick ? 10_000 : 30_000);
  } finally {
    // The profile is written when the process exits on its own (SIGTERM: a clean shutdown).
    const ended = await server.stop();
    if (ended !== 0) ctx.log(`  (profiled service ended: ${String(ended)}; its profile may be missing)`);
  }
  logRun(ctx, `profiled service (--cpu-prof, slower than unprofiled), ${TARGET_CONCURRENCY} clients`, m, 'service');
  const file = mainThreadProfile(dir);
  if (file === undefined) {
    ctx.log(`  no main-thread .cpuprofile was written in ${dir}`);
    return;
  }
  ctx.log(`  profile: ${file} (open in Chrome DevTools → Performance, or speedscope, for a flame graph)`);
  for (const line of describeProfile(summarizeProfile(readProfile(file), m.windowUs))) ctx.log(`    ${line}`);
}

async function run(ctx: BenchContext): Promise<Row[]> {
  return withBenchDatabase('http', async (db: BenchDatabase) => {
    // RATE_LIMIT_PER_MINUTE: the per-credential limit must not be what the benchmark measures.
    const serviceEnv: Record<string, string> = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' };
    // The baseline's pool is as large as the service's.
    const poolSize = loadConfig({ ...process.env, ...serviceEnv, PORT: '0', HOST: '127.0.0.1' }).DATABASE_POOL_MAX;
    const counter = await TransactionCounter.open(db.url);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    admin.on('error', () => undefined); // a failed query still rejects; an idle connection's loss is no crash
    await admin.connect();
    const accounting = new CpuAccounting(admin, db.name);
    try {
      const ddl = new pg.Client({ connectionString: db.url });
      await ddl.connect();
      await ddl.query(BASELINE_TABLE);
      await ddl.end();
      // `ledger token create` migrates the fresh database first, as the service would.
      const auth = await benchToken(db.url, 'payments:write');
      ctx.log(`  bearer token: ${auth.source}; a fresh Idempotency-Key on every request (baseline included: the same requests, which it ignores)`);
      const withKey: Load = { headers: authorizationHeader(auth.token), idempotencyKey: true };
      const withoutKey: Load = { ...withKey, idempotencyKey: false };

      // Baseline first, at every level, so that the service's projections catching up after a
      // level do not run during a baseline measurement.
      const baseline = new Map<number, Measurement>();
      const baselineTx = await lifetime(
        counter,
        () => startBaselineProcess(db.url, poolSize),
        async (server) => {
          let requests = 0;
          for (const clients of LEVELS) {
            await counter.checkpoint();
            const m = await measure(server, clients, ctx, withKey, accounting);
            baseline.set(clients, m);
            requests += m.report.allRequests;
            logRun(ctx, `baseline (node:http + 1 INSERT), ${clients} client(s)`, m, 'baseline server');
          }
          return requests;
        },
        ctx,
      );

      const measured = new Map<number, Measurement>();
      const serviceTx = await lifetime(
        counter,
        () => startServiceProcess(serviceEnv),
        async (server) => {
          let requests = 0;
          for (const clients of LEVELS) {
            await counter.checkpoint();
            const m = await measure(server, clients, ctx, withKey, accounting, clients === TARGET_CONCURRENCY);
            measured.set(clients, m);
            requests += m.report.allRequests;
            logRun(ctx, `service POST /v1/payments, ${clients} client(s)`, m, 'service');
            // Every projection catches up before the next level (and before the next server).
            const lag = await projectionCatchUp(db.url, ctx.quick ? 10_000 : 30_000);
            ctx.log(
              lag.caughtUp
                ? `      every projection reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the run ended`
                : `      projections ${lag.behind.join(', ')} had not reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the run ended`,
            );
          }
          return requests;
        },
        ctx,
      );

      // Decomposition, informational, at 32 clients: the Idempotency-Key protocol (same
      // service without the header), and the read-model work (PROJECTIONS_ENABLED=false).
      let noKey: Measurement | undefined;
      const noKeyTx = await lifetime(
        counter,
        () => startServiceProcess(serviceEnv),
        async (server) => {
          await counter.checkpoint();
          noKey = await measure(server, TARGET_CONCURRENCY, ctx, withoutKey, accounting);
          logRun(ctx, `service without Idempotency-Key, ${TARGET_CONCURRENCY} clients`, noKey, 'service');
          await projectionCatchUp(db.url, ctx.quick ? 10_000 : 30_000);
          return noKey.report.allRequests;
        },
        ctx,
      );
      let noProjections: Measurement | undefined;
      const noProjectionsTx = await lifetime(
        counter,
        () => startServiceProcess({ ...serviceEnv, PROJECTIONS_ENABLED: 'false' }),
        async (server) => {
          await counter.checkpoint();
          noProjections = await measure(server, TARGET_CONCURRENCY, ctx, withKey, accounting);
          logRun(ctx, `service with PROJECTIONS_ENABLED=false, ${TARGET_CONCURRENCY} clients`, noProjections, 'service');
          return noProjections.report.allRequests;
        },
        ctx,
      );
      ctx.log(
        `  database transactions per request (whole server lifetime, all levels, warm-up included): baseline ${baselineTx.toFixed(2)}, ` +
          `service ${serviceTx.toFixed(2)}, without Idempotency-Key ${noKeyTx.toFixed(2)}, projections off ${noProjectionsTx.toFixed(2)}`,
      );
      if (PROFILE) await profileRun(db, serviceEnv, withKey, ctx, accounting);

      const b32 = baseline.get(TARGET_CONCURRENCY) as Measurement;
      const s32 = measured.get(TARGET_CONCURRENCY) as Measurement;
      const rows = LEVELS.map((clients): Row => {
        const s = measured.get(clients) as Measurement;
        const b = baseline.get(clients) as Measurement;
        const targeted = clients === TARGET_CONCURRENCY;
        const ratio = s.report.rate / b.report.rate;
        return {
          benchmark: 'HTTP POST /v1/payments (bearer token, Idempotency-Key, projections on)',
          setting: `${clients} client${clients === 1 ? '' : 's'}`,
          figure: describe(s),
          baseline: describe(b),
          ratio,
          target: `≥ ${TARGET_RATIO}×${targeted ? `, p99 < ${TARGET_P99_MS} ms` : ''}`,
          pass: ratio >= TARGET_RATIO && (!targeted || s.latency.p99 < TARGET_P99_MS),
          values: { clients, rate: s.report.rate, p50Ms: s.latency.p50, p99Ms: s.latency.p99, transactionsPerRequest: serviceTx, ...values('service', s), ...values('baseline', b), baselineTransactionsPerRequest: baselineTx },
        };
      });
      const decomposition = (name: string, m: Measurement | undefined, tx: number): Row[] =>
        m === undefined
          ? []
          : [
              {
                benchmark: `HTTP POST /v1/payments, ${name}`,
                setting: `${TARGET_CONCURRENCY} clients`,
                figure: describe(m),
                baseline: describe(b32),
                ratio: m.report.rate / b32.report.rate,
                target: '— (decomposition)',
                pass: undefined,
                values: { clients: TARGET_CONCURRENCY, rate: m.report.rate, p50Ms: m.latency.p50, p99Ms: m.latency.p99, transactionsPerRequest: tx, ...values('service', m), ...values('baseline', b32) },
              },
            ];
      rows.push(...decomposition('without Idempotency-Key', noKey, noKeyTx), ...decomposition('projections off', noProjections, noProjectionsTx));
      rows.push(cpuRow(s32, b32));
      const rss = s32.rss;
      if (rss !== undefined) {
        const peak = Math.max(rss.peakSampled, rss.hwm);
        rows.push({
          benchmark: 'HTTP service RSS under load',
          setting: `${TARGET_CONCURRENCY} clients`,
          figure: `peak ${mib(peak).toFixed(0)} MB, end ${mib(rss.end).toFixed(0)} MB`,
          baseline: '—',
          ratio: undefined,
          target: `< ${TARGET_RSS_MIB} MB`,
          pass: mib(peak) < TARGET_RSS_MIB,
          values: { rssPeakMiB: mib(peak), rssPeakSampledMiB: mib(rss.peakSampled), rssHwmMiB: mib(rss.hwm), rssEndMiB: mib(rss.end), samples: rss.samples },
        });
      }
      return rows;
    } finally {
      await admin.end().catch(() => undefined);
      await counter.close();
    }
  });
}

const usText = (v: number | undefined): string => (v === undefined ? 'n/a' : fmtInt(v));

/** Informational: where the CPU of a request goes, service run beside baseline run, at 32 clients. */
function cpuRow(s: Measurement, b: Measurement): Row {
  const text = (m: Measurement, server: string): string =>
    m.cpu === undefined
      ? 'n/a (no /proc)'
      : `${server} ${usText(m.cpu.serverUs)} + load gen ${usText(m.cpu.loadGeneratorUs)} + PostgreSQL ${usText(m.cpu.postgresBackendsUs + m.cpu.postgresSharedUs)} µs`;
  return {
    benchmark: 'HTTP CPU per request',
    setting: `${TARGET_CONCURRENCY} clients`,
    figure: text(s, 'service'),
    baseline: text(b, 'server'),
    ratio: undefined,
    target: '— (where the time goes)',
    pass: undefined,
    values: { ...values('service', s), ...values('baseline', b) },
  };
}

export const httpBenchmark: Benchmark = { name: 'http', run };
