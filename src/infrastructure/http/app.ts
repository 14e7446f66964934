import express from 'express';
import type { Express } from 'express';
import type { HttpDeps, HttpLimits } from './deps.js';
import { DEFAULT_HTTP_LIMITS } from './deps.js';
import { accessLog, errorHandler, requestContext, requestTimeout } from './middleware.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerPaymentCommandRoutes } from './routes/payment-commands.js';
import { HttpProblem } from './problem.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerPaymentQueryRoutes } from './routes/payment-queries.js';

export const resolveLimits = (limits: Partial<HttpLimits> | undefined): HttpLimits => ({ ...DEFAULT_HTTP_LIMITS, ...(limits ?? {}) });

/**
 * The Ledger HTTP API as an Express app; the caller owns the server (listen, timeouts,
 * shutdown). See /openapi.json for the contract.
 */
export function createHttpApp(deps: HttpDeps): Express {
  const limits = resolveLimits(deps.limits);
  const openApiJson = JSON.stringify(buildOpenApiDocument({ bodyLimitBytes: limits.bodyLimitBytes }));
  const app = express();
  app.disable('x-powered-by');
  // We set strong ETags ourselves, from stream revisions; Express's body-hash ETags would contradict them.
  app.set('etag', false);

  app.use(requestContext);
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(requestTimeout(limits.requestTimeoutMs));

  registerOperationRoutes(app, deps, limits, openApiJson);
  registerPaymentCommandRoutes(app, deps, limits);
  registerPaymentQueryRoutes(app, deps, limits);

  app.use((req, _res, next) => next(new HttpProblem({ code: 'not_found', detail: `Nothing is served at ${req.method} ${req.path}.` })));
  app.use(errorHandler(deps.logger, limits.bodyLimitBytes));
  return app;
}
