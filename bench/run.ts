/*
 * `npm run bench`: every figure beside a baseline measured in the same run, on this machine.
 *
 *   BENCH_QUICK=1          a much shorter run (smoke test)
 *   BENCH_ONLY=a,b         only these benchmarks (appends, read-all, replay, http, realtime, billing, webhooks, webhooks-inbound)
 *   BENCH_DATABASE_URL     server to use (default postgres://postgres@127.0.0.1:5432/postgres);
 *                          each benchmark creates and drops a database ledger_bench_* of its own
 *   BENCH_STRICT=1         exit 1 when a target is missed (default: only when a benchmark fails)
 *   BENCH_JSON=<path>      where to write every row as JSON (default bench/results/latest.json)
 *   BENCH_PROFILE=1        http: one more 32-client run of the service under --cpu-prof, and its
 *                          top self-time functions and packages (profile kept in bench/results/)
 */
import os from 'node:os';
import { appendsBenchmark } from './appends.js';
import { billingBenchmark } from './billing.js';
import { httpBenchmark } from './http.js';
import { readAllBenchmark } from './read-all.js';
import { realtimeBenchmark } from './realtime.js';
import { replayBenchmark } from './replay.js';
import { webhooksBenchmark } from './webhooks.js';
import { webhooksInboundBenchmark } from './webhooks-inbound.js';
import { dropAllBenchDatabases, serverInfo } from './support/db.js';
import { killChildren } from './support/processes.js';
import { errorRow, resultsTable, type BenchContext, type Benchmark, type Row } from './support/report.js';
import { DEFAULT_RESULTS_PATH, writeResults } from './support/results-json.js';

const benchmarks: readonly Benchmark[] = [appendsBenchmark, readAllBenchmark, replayBenchmark, httpBenchmark, realtimeBenchmark, billingBenchmark, webhooksBenchmark, webhooksInboundBenchmark];

const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
const strict = process.env.BENCH_STRICT === '1' || process.env.BENCH_STRICT === 'true';
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');

const unknown = only.filter((name) => !benchmarks.some((b) => b.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

// Ctrl-C or a kill must not leave ledger_bench_* databases behind.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping child processes, dropping benchmark databases…\n`);
    killChildren();
    void dropAllBenchDatabases().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const loadAtStart = os.loadavg();
  const cpus = os.cpus();
  const server = await serverInfo();
  const machine = [
    `cpus: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `os: ${os.type()} ${os.release()} (${os.arch()})`,
    `node: ${process.version}`,
    `postgresql: ${server.version} (${Object.entries(server.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')})`,
    `load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} (1, 5, 15 min)`,
    `mode: ${quick ? 'QUICK (BENCH_QUICK=1: short runs, small data; figures are indicative only)' : 'full'}`,
  ];
  print('# Ledger benchmarks');
  print();
  for (const line of machine) print(`- ${line}`);
  print();
  print('The load generators, the service and PostgreSQL share the same CPUs: anything else running');
  print('(tests, linters) lowers every figure, the baselines included. Compare ratios, and rerun when idle.');
  print();

  const ctx: BenchContext = { quick, log: (line) => print(line) };
  const rows: Row[] = [];
  let failed = false;
  for (const benchmark of benchmarks) {
    if (only.length > 0 && !only.includes(benchmark.name)) continue;
    if (interrupted) break;
    const t0 = Date.now();
    print(`## ${benchmark.name}`);
    try {
      rows.push(...(await benchmark.run(ctx)));
    } catch (error) {
      failed = true;
      print(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push(errorRow(benchmark.name, error));
    }
    print(`  (${((Date.now() - t0) / 1000).toFixed(1)} s; load average now ${os.loadavg()[0]?.toFixed(2) ?? '?'})`);
    print();
  }

  print('## Results');
  print();
  for (const line of machine) print(`- ${line}`);
  print(`- load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  print();
  print(resultsTable(rows));
  print();
  print('ratio = figure / baseline (both measured in this run). Targets: docs/architecture.md, "Performance targets".');
  const missed = rows.filter((r) => r.pass === false).length;
  const jsonPath = process.env.BENCH_JSON ?? DEFAULT_RESULTS_PATH;
  writeResults(
    jsonPath,
    {
      startedAt: new Date(startedAt),
      finishedAt: new Date(),
      quick,
      only,
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model.trim() ?? 'unknown',
        memoryBytes: os.totalmem(),
        os: `${os.type()} ${os.release()} (${os.arch()})`,
        node: process.version,
        postgresql: server.version,
        postgresqlSettings: server.settings,
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: os.loadavg(),
      },
    },
    rows,
  );
  print(`rows as JSON: ${jsonPath}`);
  print(`${rows.filter((r) => r.pass === true).length} passed, ${missed} missed, ${rows.filter((r) => r.pass === undefined).length} informational; total ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  if (failed) return 1;
  return strict && missed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Pools, agents and sockets are all closed by now; this is only a guard against a stray
    // timer keeping a finished benchmark alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killChildren();
    await dropAllBenchDatabases();
    process.exit(1);
  },
);
