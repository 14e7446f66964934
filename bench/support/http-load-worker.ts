import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpLoadReport, HttpLoadSpec } from './http-load.js';
import { runClosedLoop } from './load.js';

/** One POST; resolves with the status, or rejects on a status other than `expect`. */
function post(agent: http.Agent, target: URL, spec: HttpLoadSpec, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: spec.path,
        method: 'POST',
        agent,
        headers: { ...spec.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === spec.expectStatus) resolve();
          else reject(new Error(`HTTP ${res.statusCode ?? '?'}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
        });
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out after 15 s')));
    req.on('error', reject);
    req.end(body);
  });
}

async function main(spec: HttpLoadSpec): Promise<HttpLoadReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });
  const target = new URL(spec.url);
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
      },
    );
    return {
      requests: result.ops,
      allRequests: result.allUnits,
      errors: result.errors,
      firstError: result.firstError,
      elapsedMs: result.elapsedMs,
      rate: result.rate,
      latencies: result.latencies,
    };
  } finally {
    agent.destroy();
  }
}

const port = parentPort;
if (port) {
  main(workerData as HttpLoadSpec).then(
    (report) => port.postMessage(report),
    (error: unknown) => {
      throw error;
    },
  );
}
