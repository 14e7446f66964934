import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { startService } from '../../src/infrastructure/service.js';
import { TEST_JWT_SECRET } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { authHeader } from '../support/service.js';
import { TcpProxy } from './support/tcp-proxy.js';

/*
 * The service talks to PostgreSQL through a proxy the test breaks: connections reset, or
 * silently cut. Requests must answer 503 service_unavailable with Retry-After, quickly; the
 * log must say so once per outage, not once per request; and the heal must be noticed.
 */

/** A silently cut request must answer within the query timeout (2.5 s) plus some slack, not the 10 s request timeout. */
const SILENT_CUT_ANSWER_MS = 4_000;
/** How long after the heal the service may take to serve a command again (it takes ~0.1 s on an idle machine). */
const HEAL_BUDGET_MS = 2_000;

let db: TestDatabase;
let proxy: TcpProxy;
let service: RunningService;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase('db_outage');
  const direct = new URL(db.url);
  proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || '5432') });
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const config = loadConfig({
    DATABASE_URL: viaProxy.toString(),
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: '100000',
    SHUTDOWN_GRACE_MS: '1000',
  });
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  service = await startService(config, logger);
}, 60_000);

afterAll(async () => {
  proxy?.forward();
  await service?.stop();
  await proxy?.close();
  await db?.drop();
});

let n = 0;
interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | null;
  readonly code: unknown;
  readonly id: string | undefined;
  readonly position: string | null;
}

const create = async (key = `outage-${Date.now()}-${++n}`): Promise<Answer> => {
  const started = Date.now();
  const res = await fetch(`${service.url}/v1/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(await authHeader()) },
    body: JSON.stringify({ customerId: 'cus_outage', amount: 100, currency: 'USD', paymentMethod: 'pm_card_visa' }),
  });
  const body = (await res.json()) as { code?: unknown; id?: string };
  return {
    status: res.status,
    ms: Date.now() - started,
    retryAfter: res.headers.get('retry-after'),
    code: body.code,
    id: body.id,
    position: res.headers.get('ledger-position'),
  };
};

const logged = (message: string): Record<string, unknown>[] => logs.filter((l) => l.msg === message);
/** Anything the HTTP layer logged above info: a refused request is not a bug and leaves no line of its own. */
const httpComplaints = (): Record<string, unknown>[] => logs.filter((l) => l.component === 'http' && l.level !== 'info' && l.level !== 'debug');
const OUTAGE = 'database unavailable: requests that need it answer 503 until it is back';
const RECOVERED = 'database available again';

/** Sends commands until one is 201 (the service noticed the heal); how long that took. */
async function untilServing(budgetMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < budgetMs) {
    if ((await create()).status === 201) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`still not serving ${budgetMs} ms after the heal`);
}

describe('losing PostgreSQL', () => {
  it('connections reset: 503 service_unavailable with Retry-After at once, one outage line, one recovery line', async () => {
    expect((await create()).status).toBe(201);
    const outagesBefore = logged(OUTAGE).length;

    proxy.reset();
    const during = await Promise.all(Array.from({ length: 12 }, () => create()));
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.code).toBe('service_unavailable');
      expect(r.retryAfter).toBe('2');
      expect(r.ms).toBeLessThan(2_500);
    }
    // Queries too.
    const list = await fetch(`${service.url}/v1/payments?customerId=cus_outage`, { headers: await authHeader() });
    expect(list.status).toBe(503);
    expect(list.headers.get('content-type')).toContain('application/problem+json');
    expect(((await list.json()) as { code: string }).code).toBe('service_unavailable');
    expect(logged(OUTAGE).length - outagesBefore).toBe(1);
    expect(httpComplaints()).toEqual([]);

    proxy.forward();
    expect(await untilServing(HEAL_BUDGET_MS)).toBeLessThan(HEAL_BUDGET_MS);
    const recovered = logged(RECOVERED).at(-1);
    expect(recovered).toBeDefined();
    expect(recovered!.failedOperations).toEqual(expect.any(Number));
    expect(Number(recovered!.failedOperations)).toBeGreaterThanOrEqual(12);
    expect(logged(OUTAGE).length - outagesBefore).toBe(1);
  }, 30_000);

  it('silently cut: 503 within seconds instead of the request timeout; a key caught in it is usable again a lease after the heal', async () => {
    expect((await create()).status).toBe(201);
    const outagesBefore = logged(OUTAGE).length;

    proxy.silence();
    const caughtKey = `caught-${Date.now()}`;
    const during = await Promise.all([create(caughtKey), ...Array.from({ length: 5 }, () => create())]);
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.code).toBe('service_unavailable');
      expect(r.retryAfter).toBe('2');
      expect(r.ms).toBeLessThan(SILENT_CUT_ANSWER_MS);
    }
    expect(logged(OUTAGE).length - outagesBefore).toBe(1);
    expect(httpComplaints()).toEqual([]);
    // Readiness says so too, within its own 2 s check timeout.
    const readyStarted = Date.now();
    expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
    expect(Date.now() - readyStarted).toBeLessThan(SILENT_CUT_ANSWER_MS);

    proxy.forward();
    expect(await untilServing(HEAL_BUDGET_MS)).toBeLessThan(HEAL_BUDGET_MS);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    // The caught request's claim may reach the database after the heal (the bytes were held,
    // as in a partition): its lease then runs out unrenewed, and 409s on the way say when.
    const started = Date.now();
    let retry = await create(caughtKey);
    while (retry.status === 409 && Date.now() - started < 7_000) {
      expect(Number(retry.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retry.retryAfter)).toBeLessThanOrEqual(5);
      await new Promise((r) => setTimeout(r, 250));
      retry = await create(caughtKey);
    }
    expect(retry.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(6_500);

    // The rest of the service came back too: the projection serves the payment made after the heal.
    const read = await fetch(`${service.url}/v1/payments/${String(retry.id)}?minPosition=${String(retry.position)}`, { headers: await authHeader() });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(retry.id);
  }, 40_000);
});
