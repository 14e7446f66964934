import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import { createPool } from '../../src/infrastructure/postgres/pool.js';

/*
 * The HTTP baseline, a process of its own (started by bench/http.ts like the service): a
 * minimal node:http server that parses the JSON body, does one raw INSERT per request (pool
 * built as the service builds its own, same size) and answers 201 with a small JSON body.
 * Nothing else: the ratio against it is what the service's layers cost.
 *
 * Arguments: <database url> <pool size>. Sends { kind: 'listening', port } once it listens;
 * SIGTERM closes it.
 */

export const BASELINE_TABLE = `
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

export interface BaselineListening {
  readonly kind: 'listening';
  readonly port: number;
}

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

/** The baseline: node:http, JSON in, one INSERT, 201 JSON out. Nothing else. */
function baselineServer(pool: pg.Pool): http.Server {
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
  return server;
}

async function main(databaseUrl: string, poolSize: number): Promise<void> {
  const pool = createPool({ connectionString: databaseUrl, max: poolSize, applicationName: 'bench-http-baseline' });
  const server = baselineServer(pool);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = (): void => {
    server.close(() => void pool.end().finally(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The benchmark gone (killed), nobody will stop this server: stop now.
  process.once('disconnect', stop);
  const listening: BaselineListening = { kind: 'listening', port: (server.address() as AddressInfo).port };
  process.send?.(listening);
}

// bench/http.ts imports this module for BASELINE_TABLE: only as the main module does it serve.
const [, script, databaseUrl, poolSize] = process.argv;
if (script !== undefined && databaseUrl !== undefined && import.meta.url === pathToFileURL(script).href) {
  main(databaseUrl, Number(poolSize ?? 20)).catch((error: unknown) => {
    process.stderr.write(`baseline server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
