import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../postgres/pool.js';
import { maybePrincipalOf } from './auth.js';
import type { HttpLogger, HttpMetrics } from './deps.js';
import { problemForParserError } from './json-body.js';
import { HttpProblem } from './problem.js';
import { attachContext, contextOf, requestIdOf } from './request-context.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { unmatchedRouteLabel } from './route-label.js';
import { problemResponse, send } from './respond.js';

/** Gives the request its id (the caller's, when sane) and echoes it. Runs first. */
export const requestContext: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
  const requestId = requestIdFrom(req.headers['x-request-id']);
  attachContext(req, { requestId, startedAt: process.hrtime.bigint(), route: undefined });
  res.setHeader(REQUEST_ID_HEADER, requestId);
  next();
};

/**
 * One log line and one histogram sample per request, when the response is done (or the
 * client left). The line names the route pattern (never the path with its query string;
 * for a request refused before routing, the route it was meant for), the problem `code`
 * of an error answer (so a 4xx says which one without the body), and the acting
 * principal's actor, or why authentication failed; never a header, so a credential cannot
 * reach the log from here.
 */
export function accessLog(logger: HttpLogger, metrics: HttpMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const context = contextOf(req);
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const durationSeconds = Number(process.hrtime.bigint() - context.startedAt) / 1e9;
      const route = context.route ?? unmatchedRouteLabel(req);
      const aborted = !res.writableFinished;
      const actor = maybePrincipalOf(res)?.actor;
      metrics.observeHttpRequest({ method: req.method, route, status: res.statusCode, durationSeconds });
      logger.info(
        {
          requestId: context.requestId,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(durationSeconds * 1e4) / 10,
          ...(actor !== undefined ? { actor } : {}),
          ...(context.problemCode !== undefined ? { code: context.problemCode } : {}),
          ...(context.authFailure !== undefined ? { authFailure: context.authFailure } : {}),
          ...(aborted ? { aborted: true } : {}),
        },
        'request',
      );
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}

/**
 * Answers 503 when a request has not been answered within `timeoutMs`. The work behind it
 * is not cancelled (a command half-way through its append must finish), it just no longer
 * gets to write the response.
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const timer = setTimeout(() => {
      send(res, problemResponse(req, { code: 'request_timeout', detail: `No answer within ${timeoutMs} ms; retry the request.`, retryAfterSeconds: 1 }));
    }, timeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}

/**
 * Client errors Express itself raises, tagged with a 4xx `status` (http-errors style): a
 * path parameter that is not valid percent-encoding, for one. Undefined for anything else.
 */
export function problemForClientError(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) return undefined;
  switch (code) {
    case 404:
      return new HttpProblem({ code: 'not_found', detail: 'No such resource.' });
    case 413:
      return new HttpProblem({ code: 'payload_too_large', detail: 'The request body is too large.' });
    case 415:
      return new HttpProblem({ code: 'unsupported_media_type', detail: 'Send the body as application/json.' });
    default:
      return new HttpProblem({ code: 'validation_failed', detail: 'The request could not be read (e.g. a path that is not valid percent-encoding).' });
  }
}

/** Long enough for a reset connection to be re-established, short enough to notice the heal. */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * The last stop: problems as they are, parser and other client errors as problems, a
 * database that cannot be reached a 503 (the pool logs the outage once, so nothing here),
 * anything else a bare 500 (logged in full). No message, stack or SQL reaches the body.
 */
export function errorHandler(logger: HttpLogger, bodyLimitBytes: number): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let problem = error instanceof HttpProblem ? error : (problemForParserError(error, bodyLimitBytes) ?? problemForClientError(error));
    if (!problem && isDatabaseUnavailable(error)) {
      problem = new HttpProblem({
        code: 'service_unavailable',
        detail: 'The database cannot be reached right now; retry shortly.',
        retryAfterSeconds: DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS,
      });
    }
    if (!problem) {
      logger.error({ requestId: requestIdOf(req), method: req.method, path: req.path, err: error }, 'unhandled error');
      problem = new HttpProblem({
        code: 'internal_error',
        detail: `Something went wrong on our side. Quote request id ${requestIdOf(req)} when reporting it.`,
      });
    }
    if (res.headersSent) return;
    send(res, problemResponse(req, problem.spec));
  };
}
