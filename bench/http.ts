import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { comparePositions, formatPosition } from '../src/application/ports/position.js';
import { loadConfig } from '../src/infrastructure/config/config.js';
import { TOKENS } from '../src/infrastructure/container/tokens.js';
import { createLogger } from '../src/infrastructure/logging/logger.js';
import { startService, type RunningService } from '../src/infrastructure/service.js';
import { authorizationHeader, benchToken } from './support/auth.js';
import { withBenchDatabase, type BenchDatabase } from './support/db.js';
import { runHttpLoad, type HttpLoadReport } from './support/http-load.js';
import type { BenchContext, Benchmark, Row } from './support/report.js';
import { fmtInt, fmtMs, now, summarize } from './support/stats.js';

/*
 * POST /v1/payments against the real service started in this process (startService), driven
 * by a closed-loop keep-alive load generator in a worker thread, at 1, 8 and 32 clients.
 * Baseline: a minimal node:http server in the same process and database that parses the
 * JSON body, does one raw INSERT per request (same pool size as the service) and answers
 * 201 with a small JSON body: the ratio is what the service's layers cost.
 */

const LEVELS = [1, 8, 32];
const TARGET_CONCURRENCY = 32;
const TARGET_RATE = 3_000;
const TARGET_P99_MS = 25;

const BASELINE_TABLE = `
CREATE TABLE baseline_payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id text NOT NULL,
  amount bigint NOT NULL,
  currency text NOT NULL,
  payment_method text NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

const BASELINE_INSERT = `INSERT INTO baseline_payments (customer_id, amount, currency, payment_method, data) VALUES ($1, $2, $3, $4, $5) RETURNING id::text AS id`;

interface CreateBody {
  readonly customerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: string;
}

function isCreateBody(value: unknown): value is CreateBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.customerId === 'string' && typeof v.amount === 'number' && typeof v.currency === 'string' && typeof v.paymentMethod === 'string';
}

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

/** The baseline: node:http, JSON in, one INSERT, 201 JSON out. Nothing else. */
async function startBaselineServer(pool: pg.Pool): Promise<Server> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method !== 'POST' || req.url !== '/v1/payments') {
      req.resume();
      reply(404, { error: 'not found' });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reply(400, { error: 'invalid JSON' });
        return;
      }
      if (!isCreateBody(body)) {
        reply(400, { error: 'invalid body' });
        return;
      }
      pool
        .query<{ id: string }>({ name: 'baseline_insert', text: BASELINE_INSERT, values: [body.customerId, body.amount, body.currency, body.paymentMethod, JSON.stringify(body)] })
        .then(
          ({ rows }) => reply(201, { id: `pay_${rows[0]?.id ?? ''}`, object: 'payment', status: 'succeeded', customerId: body.customerId, amount: body.amount, currency: body.currency }),
          () => reply(500, { error: 'database' }),
        );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Transactions committed in the benchmark's database (pg_stat_database.xact_commit; every
 * autocommitted statement counts as one). Backends publish these counters lazily, but always
 * when they exit: so a count is taken over a whole server's lifetime, from before it opens its
 * pool to after it has closed it, on a connection of our own whose statements we subtract.
 */
class TransactionCounter {
  #statements = 0;
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<TransactionCounter> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new TransactionCounter(client);
  }

  async read(): Promise<bigint> {
    // Connections closed a moment ago may still be exiting (and flushing their counters).
    await new Promise((resolve) => setTimeout(resolve, 300));
    this.#statements++;
    const { rows } = await this.client.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`);
    return BigInt(rows[0]?.n ?? '0');
  }

  /** CHECKPOINT through this connection, so that it is not counted as the server's. */
  async checkpoint(): Promise<void> {
    this.#statements++;
    await this.client.query('CHECKPOINT');
  }

  /** Statements this counter ran itself (they are transactions too). */
  get own(): number {
    return this.#statements;
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** Transactions per request over a server's lifetime. */
async function transactionsPerRequest(counter: TransactionCounter, work: () => Promise<number>): Promise<number> {
  const ownBefore = counter.own;
  const before = await counter.read();
  const requests = await work();
  const after = await counter.read();
  return (Number(after - before) - (counter.own - ownBefore - 1)) / Math.max(1, requests);
}

function describe(r: HttpLoadReport): string {
  const s = summarize(r.latencies);
  return `${fmtInt(r.rate)} req/s (p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)})`;
}

async function drive(url: string, clients: number, ctx: BenchContext, headers: Readonly<Record<string, string>> = {}): Promise<HttpLoadReport> {
  const report = await runHttpLoad({
    headers,
    url,
    path: '/v1/payments',
    concurrency: clients,
    warmupMs: ctx.quick ? 300 : 1_000,
    durationMs: ctx.quick ? 1_000 : 5_000,
    maxRequests: 1_000_000,
    expectStatus: 201,
  });
  if (report.errors > 0) throw new Error(`${report.errors} failed requests at ${clients} clients, first: ${report.firstError ?? '?'}`);
  return report;
}

/** Waits until the payments projection has caught up with the log; returns how long that took. */
async function projectionCatchUp(service: RunningService, limitMs: number): Promise<{ ms: number; caughtUp: boolean; head: string }> {
  const eventStore = service.container.get(TOKENS.EventStore);
  const store = service.container.get(TOKENS.ProjectionStore);
  const head = await eventStore.headPosition();
  const t0 = now();
  if (head === undefined) return { ms: 0, caughtUp: true, head: '-' };
  while (now() - t0 < limitMs) {
    const at = (await store.readCheckpoints(['payments'])).get('payments');
    if (at !== undefined && comparePositions(at, head) >= 0) return { ms: now() - t0, caughtUp: true, head: formatPosition(head) };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { ms: now() - t0, caughtUp: false, head: formatPosition(head) };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  return withBenchDatabase('http', async (db: BenchDatabase) => {
    // RATE_LIMIT_PER_MINUTE: the per-credential limit (where the build has one) must not
    // be what the benchmark measures. Unknown settings are ignored by older builds.
    const serviceEnv = { DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' };
    const config = loadConfig(serviceEnv);
    const counter = await TransactionCounter.open(db.url);
    try {
      const ddl = new pg.Client({ connectionString: db.url });
      await ddl.connect();
      await ddl.query(BASELINE_TABLE);
      await ddl.end();
      let headers: Record<string, string> = {};

      // Baseline first, at every level, so that the service's projection catching up after a
      // level does not run during a baseline measurement.
      const baseline = new Map<number, HttpLoadReport>();
      const baselineTx = await transactionsPerRequest(counter, async () => {
        const pool = db.createPool(config.DATABASE_POOL_MAX, 'bench-http-baseline');
        const server = await startBaselineServer(pool);
        let requests = 0;
        try {
          for (const clients of LEVELS) {
            await counter.checkpoint();
            const r = await drive(server.url, clients, ctx);
            baseline.set(clients, r);
            requests += r.allRequests;
            ctx.log(`  baseline (node:http + 1 INSERT), ${clients} client(s): ${describe(r)}`);
          }
        } finally {
          await server.stop();
          await pool.end();
        }
        return requests;
      });

      const measured = new Map<number, HttpLoadReport>();
      let lag: Awaited<ReturnType<typeof projectionCatchUp>> | undefined;
      const serviceTx = await transactionsPerRequest(counter, async () => {
        const service = await startService(config, createLogger({ level: 'silent' }));
        let requests = 0;
        try {
          const auth = await benchToken(db.url, 'payments:write');
          headers = authorizationHeader(auth.token);
          ctx.log(`  bearer token: ${auth.source}`);
          for (const clients of LEVELS) {
            await counter.checkpoint();
            const r = await drive(service.url, clients, ctx, headers);
            // How far behind the read model is when the load stops (the last, heaviest level).
            if (clients === TARGET_CONCURRENCY) lag = await projectionCatchUp(service, ctx.quick ? 10_000 : 30_000);
            measured.set(clients, r);
            requests += r.allRequests;
            ctx.log(`  service POST /v1/payments, ${clients} client(s): ${describe(r)}`);
          }
        } finally {
          await service.stop();
        }
        return requests;
      });
      if (lag !== undefined) {
        ctx.log(
          lag.caughtUp
            ? `  the payments projection reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the ${TARGET_CONCURRENCY}-client run ended`
            : `  the payments projection had not reached the head of the log (${lag.head}) ${fmtMs(lag.ms)} after the ${TARGET_CONCURRENCY}-client run ended`,
        );
      }

      // Decomposition, informational: the same service with its projection runner off
      // (PROJECTIONS_ENABLED=false), i.e. the command path alone, without the read-model
      // work that every command causes competing for the same cores.
      let withoutProjections: HttpLoadReport | undefined;
      const commandsOnlyTx = await transactionsPerRequest(counter, async () => {
        const service = await startService(loadConfig({ ...serviceEnv, PROJECTIONS_ENABLED: 'false' }), createLogger({ level: 'silent' }));
        try {
          await counter.checkpoint();
          withoutProjections = await drive(service.url, TARGET_CONCURRENCY, ctx, headers);
          ctx.log(`  service with PROJECTIONS_ENABLED=false, ${TARGET_CONCURRENCY} clients: ${describe(withoutProjections)}`);
          return withoutProjections.allRequests;
        } finally {
          await service.stop();
        }
      });
      ctx.log(
        `  database transactions per request (whole server lifetime, all levels, warm-up included): baseline ${baselineTx.toFixed(2)}, ` +
          `service ${serviceTx.toFixed(2)}, service without projections ${commandsOnlyTx.toFixed(2)}`,
      );

      const rows = LEVELS.map((clients): Row => {
        const s = measured.get(clients) as HttpLoadReport;
        const b = baseline.get(clients) as HttpLoadReport;
        const p99 = summarize(s.latencies).p99;
        const targeted = clients === TARGET_CONCURRENCY;
        return {
          benchmark: 'HTTP POST /v1/payments',
          setting: `${clients} client${clients === 1 ? '' : 's'}`,
          figure: describe(s),
          baseline: describe(b),
          ratio: s.rate / b.rate,
          target: targeted ? `≥ ${fmtInt(TARGET_RATE)} req/s, p99 < ${TARGET_P99_MS} ms` : '—',
          pass: targeted ? s.rate >= TARGET_RATE && p99 < TARGET_P99_MS : undefined,
        };
      });
      const b32 = baseline.get(TARGET_CONCURRENCY) as HttpLoadReport;
      if (withoutProjections !== undefined) {
        rows.push({
          benchmark: 'HTTP POST /v1/payments, projections off',
          setting: `${TARGET_CONCURRENCY} clients`,
          figure: describe(withoutProjections),
          baseline: describe(b32),
          ratio: withoutProjections.rate / b32.rate,
          target: '— (decomposition)',
          pass: undefined,
        });
      }
      return rows;
    } finally {
      await counter.close();
    }
  });
}

export const httpBenchmark: Benchmark = { name: 'http', run };
