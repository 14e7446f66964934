import express from 'express';
import type { Express } from 'express';
import { authenticate } from './auth.js';
import type { HttpDeps, HttpLimits } from './deps.js';
import { DEFAULT_HTTP_LIMITS } from './deps.js';
import { corsPolicy, noStore, securityHeaders } from './hardening.js';
import { accessLog, errorHandler, requestContext, requestTimeout } from './middleware.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerPaymentCommandRoutes } from './routes/payment-commands.js';
import { HttpProblem } from './problem.js';
import { registerLedgerRoutes } from './routes/ledger.js';
import { registerMrrReportRoutes } from './routes/mrr-reports.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerPaymentQueryRoutes } from './routes/payment-queries.js';
import { registerRefundQueryRoutes } from './routes/refund-queries.js';
import { registerDisputeRoutes } from './routes/disputes.js';
import { registerActivityRoutes } from './routes/activity.js';
import { registerRefundCommandRoutes } from './routes/refund-commands.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerSubscriptionCommandRoutes } from './routes/subscription-commands.js';
import { registerSubscriptionQueryRoutes } from './routes/subscription-queries.js';
import { registerTestClockRoutes } from './routes/test-clocks.js';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { registerStripeWebhookRoute } from './routes/stripe-webhooks.js';
import { registerWebhookInboxRoutes } from './routes/webhook-inbox.js';

export const resolveLimits = (limits: Partial<HttpLimits> | undefined): HttpLimits => ({ ...DEFAULT_HTTP_LIMITS, ...(limits ?? {}) });

/** The security-relevant deps are required by type; this catches a caller that got around the types. */
function assertSecurityDeps(deps: HttpDeps): void {
  const missing = (['authenticator', 'rateLimiter', 'cors', 'metricsAuth', 'production'] as const).filter((name) => deps[name] === undefined);
  if (missing.length > 0) throw new Error(`createHttpApp: missing ${missing.join(', ')}; the API does not run unauthenticated`);
  if (deps.metricsAuth !== 'none' && deps.metricsAuth !== 'admin') throw new Error(`createHttpApp: metricsAuth must be 'none' or 'admin'`);
}

/**
 * The Ledger HTTP API as an Express app; the caller owns the server (listen, timeouts,
 * shutdown). See /openapi.json for the contract.
 *
 * Order matters: request id, security headers and CORS apply to every answer (a browser
 * must be able to read a 401); the access log and timeout wrap everything; every /v1 route
 * is behind `authenticate` (401, rate limits) and then its own scope check; the ops
 * endpoints outside /v1 stay open (/metrics as configured).
 */
export function createHttpApp(deps: HttpDeps): Express {
  assertSecurityDeps(deps);
  const limits = resolveLimits(deps.limits);
  const openApiJson = JSON.stringify(buildOpenApiDocument({ bodyLimitBytes: limits.bodyLimitBytes, metricsAuth: deps.metricsAuth }));
  const app = express();
  app.disable('x-powered-by');
  // We set strong ETags ourselves, from stream revisions; Express's body-hash ETags would contradict them.
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? false);

  app.use(requestContext);
  app.use(securityHeaders({ production: deps.production }));
  const cors = corsPolicy(deps.cors);
  if (cors) app.use(cors);
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(requestTimeout(limits.requestTimeoutMs));

  // Routes that prove their caller another way (the Stripe webhook verifies its signature)
  // are registered above this line; everything under /v1 below it needs a bearer token.
  registerStripeWebhookRoute(app, deps);
  const authenticated = authenticate(deps);
  app.use('/v1', noStore, authenticated);

  registerOperationRoutes(app, deps, limits, openApiJson, authenticated);
  registerPaymentCommandRoutes(app, deps, limits);
  registerPaymentQueryRoutes(app, deps, limits);
  registerRefundQueryRoutes(app, deps, limits);
  if (deps.activity) registerActivityRoutes(app, deps.activity, limits);
  registerRefundCommandRoutes(app, deps, limits);
  registerLedgerRoutes(app, deps, limits);
  registerReportRoutes(app, deps, limits);
  registerMrrReportRoutes(app, deps, limits);
  if (deps.billing) {
    registerSubscriptionCommandRoutes(app, deps, deps.billing, limits);
    registerSubscriptionQueryRoutes(app, deps, deps.billing, limits);
    registerTestClockRoutes(app, deps, deps.billing, limits);
  }
  if (deps.webhooks) registerWebhookEndpointRoutes(app, deps.webhooks, limits);
  if (deps.disputes) registerDisputeRoutes(app, deps, deps.disputes, limits);

  if (deps.stripeWebhooks) registerWebhookInboxRoutes(app, deps.stripeWebhooks, limits);

  app.use((req, _res, next) => next(new HttpProblem({ code: 'not_found', detail: `Nothing is served at ${req.method} ${req.path}.` })));
  app.use(errorHandler(deps.logger, limits.bodyLimitBytes));
  return app;
}
