import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../../src/infrastructure/http/app.js';
import type { HttpDeps } from '../../src/infrastructure/http/deps.js';
import { buildOpenApiDocument } from '../../src/infrastructure/http/openapi.js';
import { routeTableOf } from '../../src/infrastructure/http/route-label.js';
import { inMemoryRateLimiter } from '../../src/infrastructure/http/rate-limit.js';

/*
 * Every route the app serves is in /openapi.json, under the same method. Building the app
 * touches none of its deps, so stand-ins do: only the route table is read.
 */
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used when building the app')) });

function appWithEveryRoute() {
  const deps = {
    payments: unused,
    refunds: unused,
    paymentQueries: unused,
    refundQueries: unused,
    ledgerQueries: unused,
    readModels: unused,
    revenueReports: unused,
    activity: unused,
    billing: { subscriptions: unused, testClocks: unused, queries: unused },
    webhooks: { endpoints: unused, store: unused, resend: unused, clock: { now: () => new Date() } },
    stripeWebhooks: { verifier: null, inbox: unused, wake: () => undefined },
    idempotency: unused,
    readiness: [],
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    metrics: unused,
    clock: { now: () => new Date() },
    authenticator: unused,
    rateLimiter: inMemoryRateLimiter({ credential: { points: 1, durationSeconds: 1 }, unauthenticated: { points: 1, durationSeconds: 1 } }),
    cors: { origins: [] },
    metricsAuth: 'none',
    production: false,
  } as unknown as HttpDeps;
  return createHttpApp(deps);
}

describe('the OpenAPI document covers the app', () => {
  it('documents every registered route and method', () => {
    const routes = routeTableOf(appWithEveryRoute()).routes();
    expect(routes.map((r) => r.pattern)).toEqual(expect.arrayContaining(['/v1/subscriptions/:id/change-price', '/v1/test-clocks/:id/advance', '/v1/invoices', '/v1/webhook-endpoints/:id/deliveries/:deliveryId/retry']));
    const paths = buildOpenApiDocument({ bodyLimitBytes: 1024 }).paths as Record<string, Record<string, unknown>>;
    const missing = routes
      .map((r) => ({ method: r.method.toLowerCase(), path: r.pattern.replace(/:(\w+)/g, '{$1}') }))
      .filter(({ method, path }) => paths[path]?.[method] === undefined)
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
  });
});
