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
import { TransactionCounter, TransactionSpan } from './support/transaction-counter.js';

/*
 * POST /v1/payments against the service as deployed (`ledger serve`, a process of its own),
 * at 1, 8 and 32 clients, each request with a bearer token and a fresh Idempotency-Key, sent
 * by a closed-loop keep-alive load generator in another process. Baseline: a minimal
 * node:http server doing one raw INSERT per request (bench/support/baseline-server.ts), also
 * a process of its own (with a database of its own), sent the very same requests: the ratio
 * is what the service's layers cost. Each service run follows a baseline run at the same
 * level, so that the machine's other load (it is shared) changes both sides of a ratio alike. For every run, each party's CPU time per request over the measured window
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

/**
 * One server process under measurement, with the database it alone uses (so that its
 * transactions and its backends' CPU are its own) and its transactions over its lifetime.
 */
class Side {
  private constructor(
    readonly name: string,
    readonly server: ServerProcess,
    private readonly counter: TransactionCounter,
    private readonly span: TransactionSpan,
    private readonly accounting: CpuAccounting,
  ) {}

  static async start(name: string, counter: TransactionCounter, accounting: CpuAccounting, start: () => Promise<ServerProcess>): Promise<Side> {
    const span = await TransactionSpan.open(counter);
    return new Side(name, await start(), counter, span, accounting);
  }

  async run(ctx: BenchContext, clients: number, load: Load, label: string, sampleRss = false): Promise<Measurement> {
    await this.counter.checkpoint();
    const m = await measure(this.server, clients, ctx, load, this.accounting, sampleRss);
    this.span.requests += m.report.allRequests;
    logRun(ctx, `${label}, ${clients} client${clients === 1 ? '' : 's'}`, m, this.name);
    return m;
  }

  /** Stops the server; its database transactions per request over its lifetime. */
  async stop(ctx: BenchContext): Promise<number> {
    const ended = await this.server.stop();
    if (ended !== 0) ctx.log(`  (${this.name} process ${this.server.pid} ended: ${String(ended)})`);
    return this.span.close();
  }
}

/** Runs `work` with the side started by `start`, stops it whatever happens; `work`'s result and the side's transactions per request. */
async function withSide<T>(ctx: BenchContext, start: () => Promise<Side>, work: (side: Side) => Promise<T>): Promise<{ result: T; tx: number }> {
  const side = await start();
  let result: T;
  try {
    result = await work(side);
  } catch (error) {
    await side.stop(ctx).catch(() => undefined);
    throw error;
  }
  return { result, tx: await side.stop(ctx) };
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
  // Two databases: the service's, and the baseline's, so that both servers can stay up and
  // their runs alternate (a change in the machine's other load hits both sides alike).
  return withBenchDatabase('http', (db) => withBenchDatabase('http_baseline', (baselineDb) => compare(ctx, db, baselineDb)));
}

/** Pairs of runs at the same level, one right after the other. */
interface Pair {
  readonly service: Measurement;
  readonly baseline: Measurement;
  /** Database transactions per request over the service's lifetime. */
  readonly tx: number;
}

async function compare(ctx: BenchContext, db: BenchDatabase, baselineDb: BenchDatabase): Promise<Row[]> {
  // RATE_LIMIT_PER_MINUTE: the per-credential limit must not be what the benchmark measures.
  const serviceEnv: Record<string, string> = { DATABASE_URL: db.url, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' };
  // The baseline's pool is as large as the service's.
  const poolSize = loadConfig({ ...process.env, ...serviceEnv, PORT: '0', HOST: '127.0.0.1' }).DATABASE_POOL_MAX;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  admin.on('error', () => undefined); // a failed query still rejects; an idle connection's loss is no crash
  await admin.connect();
  const serviceCounter = await TransactionCounter.open(db.url);
  const baselineCounter = await TransactionCounter.open(baselineDb.url);
  try {
    const ddl = new pg.Client({ connectionString: baselineDb.url });
    await ddl.connect();
    await ddl.query(BASELINE_TABLE);
    await ddl.end();
    // `ledger token create` migrates the fresh database first, as the service would.
    const auth = await benchToken(db.url, 'payments:write');
    ctx.log(`  bearer token: ${auth.source}; a fresh Idempotency-Key on every request (baseline included: the same requests, which it ignores)`);
    ctx.log('  each service run follows a baseline run at the same level (both servers stay up; the projections catch up in between)');
    const withKey: Load = { headers: authorizationHeader(auth.token), idempotencyKey: true };
    const withoutKey: Load = { ...withKey, idempotencyKey: false };
    const serviceCpu = new CpuAccounting(admin, db.name);
    const startService = (env: Record<string, string>) => () => Side.start('service', serviceCounter, serviceCpu, () => startServiceProcess(env));
    const catchUp = async (): Promise<void> => {
      const lag = await projectionCatchUp(db.url, ctx.quick ? 10_000 : 30_000);
      ctx.log(
        lag.caughtUp
          ? `      every projection reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the run ended`
          : `      projections ${lag.behind.join(', ')} had not reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the run ended`,
      );
    };

    const runs = await withSide(
      ctx,
      () => Side.start('baseline server', baselineCounter, new CpuAccounting(admin, baselineDb.name), () => startBaselineProcess(baselineDb.url, poolSize)),
      async (baseline) => {
        const levels = await withSide(ctx, startService(serviceEnv), async (service) => {
          const out = new Map<number, { service: Measurement; baseline: Measurement }>();
          for (const clients of LEVELS) {
            const b = await baseline.run(ctx, clients, withKey, 'baseline (node:http + 1 INSERT)');
            const m = await service.run(ctx, clients, withKey, 'service POST /v1/payments', clients === TARGET_CONCURRENCY);
            out.set(clients, { service: m, baseline: b });
            // Every projection catches up before the next run (and before the next server).
            await catchUp();
          }
          return out;
        });
        // Decomposition, informational, at 32 clients: the Idempotency-Key protocol (same
        // service without the header), and the read-model work (PROJECTIONS_ENABLED=false).
        const decomposition = async (env: Record<string, string>, load: Load, label: string): Promise<Pair> => {
          const { result, tx } = await withSide(ctx, startService(env), async (service) => {
            const b = await baseline.run(ctx, TARGET_CONCURRENCY, load, 'baseline (node:http + 1 INSERT)');
            const m = await service.run(ctx, TARGET_CONCURRENCY, load, label);
            if (env.PROJECTIONS_ENABLED !== 'false') await catchUp();
            return { service: m, baseline: b };
          });
          return { ...result, tx };
        };
        const noKey = await decomposition(serviceEnv, withoutKey, 'service without Idempotency-Key');
        const noProjections = await decomposition({ ...serviceEnv, PROJECTIONS_ENABLED: 'false' }, withKey, 'service with PROJECTIONS_ENABLED=false');
        return { levels: levels.result, serviceTx: levels.tx, noKey, noProjections };
      },
    );
    const { levels, serviceTx, noKey, noProjections } = runs.result;
    ctx.log(
      `  database transactions per request (whole server lifetime, all its runs, warm-up included): baseline ${runs.tx.toFixed(2)}, ` +
        `service ${serviceTx.toFixed(2)}, without Idempotency-Key ${noKey.tx.toFixed(2)}, projections off ${noProjections.tx.toFixed(2)}`,
    );
    if (PROFILE) await profileRun(db, serviceEnv, withKey, ctx, serviceCpu);

    const pairRow = (benchmark: string, clients: number, pair: Pair, target: string, pass: boolean | undefined): Row => ({
      benchmark,
      setting: `${clients} client${clients === 1 ? '' : 's'}`,
      figure: describe(pair.service),
      baseline: describe(pair.baseline),
      ratio: pair.service.report.rate / pair.baseline.report.rate,
      target,
      pass,
      values: {
        clients,
        rate: pair.service.report.rate,
        p50Ms: pair.service.latency.p50,
        p99Ms: pair.service.latency.p99,
        transactionsPerRequest: pair.tx,
        baselineTransactionsPerRequest: runs.tx,
        ...values('service', pair.service),
        ...values('baseline', pair.baseline),
      },
    });
    const rows = LEVELS.map((clients): Row => {
      const pair = { ...(levels.get(clients) as { service: Measurement; baseline: Measurement }), tx: serviceTx };
      const targeted = clients === TARGET_CONCURRENCY;
      const ratio = pair.service.report.rate / pair.baseline.report.rate;
      const pass = ratio >= TARGET_RATIO && (!targeted || pair.service.latency.p99 < TARGET_P99_MS);
      return pairRow(MAIN_ROW, clients, pair, `≥ ${TARGET_RATIO}×${targeted ? `, p99 < ${TARGET_P99_MS} ms` : ''}`, pass);
    });
    rows.push(
      pairRow('HTTP POST /v1/payments, without Idempotency-Key', TARGET_CONCURRENCY, noKey, '— (decomposition)', undefined),
      pairRow('HTTP POST /v1/payments, projections off', TARGET_CONCURRENCY, noProjections, '— (decomposition)', undefined),
    );
    const at32 = levels.get(TARGET_CONCURRENCY) as { service: Measurement; baseline: Measurement };
    rows.push(cpuRow(at32.service, at32.baseline));
    const rss = at32.service.rss;
    if (rss !== undefined) rows.push(rssRow(rss));
    return rows;
  } finally {
    await admin.end().catch(() => undefined);
    await serviceCounter.close();
    await baselineCounter.close();
  }
}

const MAIN_ROW = 'HTTP POST /v1/payments (bearer token, Idempotency-Key, projections on)';

function rssRow(rss: RssReport): Row {
  const peak = Math.max(rss.peakSampled, rss.hwm);
  return {
    benchmark: 'HTTP service RSS under load',
    setting: `${TARGET_CONCURRENCY} clients`,
    figure: `peak ${mib(peak).toFixed(0)} MB, end ${mib(rss.end).toFixed(0)} MB`,
    baseline: '—',
    ratio: undefined,
    target: `< ${TARGET_RSS_MIB} MB`,
    pass: mib(peak) < TARGET_RSS_MIB,
    values: { rssPeakMiB: mib(peak), rssPeakSampledMiB: mib(rss.peakSampled), rssHwmMiB: mib(rss.hwm), rssEndMiB: mib(rss.end), samples: rss.samples },
  };
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
