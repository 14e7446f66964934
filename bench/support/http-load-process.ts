import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { FromLoadGenerator, HttpLoadReport, HttpLoadSpec, ToLoadGenerator } from './http-load.js';
import { runClosedLoop } from './load.js';
import { now } from './stats.js';

/*
 * The load generator, a process of its own (started by http-load.ts with the spec as its
 * argument): tells its parent when the measured window opens and closes, so that the parent
 * can read every party's CPU time at those moments, then sends its report and exits.
 */

/** One POST; resolves on `expect`, rejects on any other status. */
function post(agent: http.Agent, target: URL, spec: HttpLoadSpec, body: string): Promise<void> {
  const headers: Record<string, string | number> = { ...spec.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (spec.idempotencyKey) headers['idempotency-key'] = randomUUID();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path: spec.path, method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode === spec.expectStatus) resolve();
        else reject(new Error(`HTTP ${res.statusCode ?? '?'}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
      });
    });
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out after 15 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves when the parent has taken its readings at window-end (this process must still exist for them). */
const reportWanted = new Promise<void>((resolve) => {
  process.on('message', (message: ToLoadGenerator) => {
    if (message.kind === 'report-please') resolve();
  });
});

const send = (message: FromLoadGenerator): Promise<void> =>
  new Promise((resolve, reject) => process.send?.(message, undefined, {}, (error) => (error ? reject(error) : resolve())) ?? resolve());

async function main(spec: HttpLoadSpec): Promise<HttpLoadReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
  const target = new URL(spec.url);
  let answered = 0;
  let answeredAtStart = 0;
  let windowStartedAt = 0;
  // The closed loop opens its window warmupMs after it starts: the same moment, give or take a timer's delay.
  const windowTimer = setTimeout(() => {
    answeredAtStart = answered;
    windowStartedAt = now();
    void send({ kind: 'window-start' });
  }, spec.warmupMs);
  try {
    const result = await runClosedLoop(
      { concurrency: spec.concurrency, warmupMs: spec.warmupMs, durationMs: spec.durationMs, maxOps: spec.maxRequests },
      async (loop, iteration) => {
        const body = JSON.stringify({
          customerId: `cus_${(loop * 7_919 + iteration) % 1_000}`,
          amount: 100 + ((iteration * 37 + loop) % 99_900),
          currency: 'USD',
          paymentMethod: 'pm_card_visa',
        });
        await post(agent, target, spec, body);
        answered++;
      },
    );
    // A run that failed during warm-up still opens its window, so the parent does not wait for it.
    if (windowStartedAt === 0) {
      clearTimeout(windowTimer);
      windowStartedAt = now();
      await send({ kind: 'window-start' });
    }
    const windowMs = now() - windowStartedAt;
    await send({ kind: 'window-end' });
    await reportWanted;
    return {
      requests: result.ops,
      allRequests: result.allUnits,
      errors: result.errors,
      firstError: result.firstError,
      elapsedMs: result.elapsedMs,
      rate: result.rate,
      latencies: result.latencies,
      windowRequests: answered - answeredAtStart,
      windowMs,
    };
  } finally {
    clearTimeout(windowTimer);
    agent.destroy();
  }
}

// The parent gone, nobody will read the report: stop loading the machine.
process.on('disconnect', () => process.exit(0));

main(JSON.parse(process.argv[2] ?? '{}') as HttpLoadSpec).then(
  async (report) => {
    await send({ kind: 'report', report });
    process.disconnect();
  },
  (error: unknown) => {
    process.stderr.write(`load generator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
