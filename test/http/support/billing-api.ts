import type { CompositionOverrides } from '../../../src/infrastructure/container/composition-root.js';
import type { RunningService } from '../../../src/infrastructure/service.js';
import type { TestDatabase } from '../../support/pg.js';
import { createTestDatabase } from '../../support/pg.js';
import { startTestService } from '../../support/service.js';
import { mintToken } from './auth.js';

/*
 * The subscription suites run the whole service (startTestService): the first invoice and
 * its charge are the billing process manager's, and the queries read the billing
 * projection, so both must be running.
 */

/**
 * A JSON body as the tests read it: asserted on, not trusted, so any member may be read
 * (the test rules already allow member access on such values; calls need a cast).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the one loose type of these suites, see above
export type Loose = Record<string, any>;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Loose;
}

export interface BillingApi {
  readonly service: RunningService;
  readonly db: TestDatabase;
  readonly admin: string;
  request(method: string, path: string, options?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<Answer>;
  /** GETs `path` until `done` holds (the billing process works after the command answered), at most `timeoutMs`. */
  until(path: string, done: (body: Loose) => boolean, timeoutMs?: number): Promise<Loose>;
  close(): Promise<void>;
}

export async function startBillingApi(label: string, overrides: CompositionOverrides = {}): Promise<BillingApi> {
  const db = await createTestDatabase(label);
  const service = await startTestService(db.url, {}, overrides);
  const admin = await mintToken({ scopes: ['admin'], sub: 'billing-admin' });
  const request: BillingApi['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? admin}`, ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(service.url + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.text();
    let body: Loose = {};
    try {
      body = JSON.parse(text) as Loose;
    } catch {
      // Not JSON: the test looks at text.
    }
    return { status: res.status, headers: res.headers, text, body };
  };
  return {
    service,
    db,
    admin,
    request,
    async until(path, done, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Loose = {};
      while (Date.now() < deadline) {
        const res = await request('GET', path);
        last = res.body;
        if (res.status === 200 && done(res.body)) return res.body;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`${path} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    },
    async close() {
      await service.stop();
      await db.drop();
    },
  };
}

/** A valid create body; override what the test is about. */
export const subscriptionBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  customerId: 'cus_sub',
  price: { amount: 2_000, currency: 'usd', interval: 'month' },
  paymentMethod: 'pm_card_visa',
  ...overrides,
});
