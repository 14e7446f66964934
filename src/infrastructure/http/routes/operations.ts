import type { Express, RequestHandler } from 'express';
import { requireOperator } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { runReadinessChecks } from '../readiness.js';
import { problemResponse, send, sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { contextOf } from '../request-context.js';

/**
 * Health, readiness, metrics, the OpenAPI document and the admin views. /healthz, /readyz
 * and /openapi.json are open; /metrics is open or behind `authenticate` + admin, as
 * configured; /v1/admin/** is behind `authenticate` (app.ts) and needs an unscoped admin.
 */
export function registerOperationRoutes(app: Express, deps: HttpDeps, limits: HttpLimits, openApiJson: string, authenticate: RequestHandler): void {
  // Liveness: the process answers. No I/O, so a slow database never gets the pod killed.
  route(app, 'get', '/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });

  route(app, 'get', '/readyz', async (req, res) => {
    const outcomes = await runReadinessChecks(deps.readiness, limits.readinessTimeoutMs);
    const checks = outcomes.map(({ name, status, durationMs }) => ({ name, status, durationMs }));
    const failing = outcomes.filter((o) => o.status !== 'ok');
    if (failing.length === 0) {
      sendJson(res, 200, { status: 'ready', checkedAt: deps.clock.now().toISOString(), checks });
      return;
    }
    for (const f of failing) {
      deps.logger.warn({ requestId: contextOf(req).requestId, check: f.name, status: f.status, err: f.error }, 'readiness check failed');
    }
    const names = failing.map((f) => `${f.name} (${f.status})`).join(', ');
    send(res, problemResponse(req, { code: 'not_ready', detail: `Failing: ${names}.`, extensions: { checks }, retryAfterSeconds: 5 }));
  });

  const metricsGuard: RequestHandler[] = deps.metricsAuth === 'admin' ? [authenticate, requireOperator] : [];
  route(app, 'get', '/metrics', ...metricsGuard, async (_req, res) => {
    const text = await deps.metrics.render();
    res.status(200).setHeader('content-type', deps.metrics.contentType);
    res.end(text);
  });

  route(app, 'get', '/openapi.json', (_req, res) => {
    res.status(200).setHeader('content-type', 'application/json; charset=utf-8');
    res.end(openApiJson);
  });

  // Every /v1/admin route, present and future, needs an operator.
  app.use('/v1/admin', requireOperator);
  route(app, 'get', '/v1/admin/projections', async (_req, res) => {
    const data = await deps.readModels.status();
    sendJson(res, 200, { data });
  });
}
