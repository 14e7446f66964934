import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { HttpLogger, HttpMetrics } from './deps.js';
import { problemForParserError } from './json-body.js';
import { HttpProblem } from './problem.js';
import { attachContext, contextOf, requestIdOf } from './request-context.js';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.js';
import { problemResponse, send } from './respond.js';

/** Gives the request its id (the caller's, when sane) and echoes it. Runs first. */
export const requestContext: RequestHandler = (req: Request, res: Response, next: NextFunction): void => {
  const requestId = requestIdFrom(req.headers['x-request-id']);
  attachContext(req, { requestId, startedAt: process.hrtime.bigint(), route: undefined });
  res.setHeader(REQUEST_ID_HEADER, requestId);
  next();
};

/** One log line and one histogram sample per request, when the response is done (or the client left). */
export function accessLog(logger: HttpLogger, metrics: HttpMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const context = contextOf(req);
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const durationSeconds = Number(process.hrtime.bigint() - context.startedAt) / 1e9;
      const route = context.route ?? 'unmatched';
      const aborted = !res.writableFinished;
      metrics.observeHttpRequest({ method: req.method, route, status: res.statusCode, durationSeconds });
      logger.info(
        {
          requestId: context.requestId,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(durationSeconds * 1e4) / 10,
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

/** The last stop: problems as they are, parser errors as problems, anything else a bare 500 (logged in full). */
export function errorHandler(logger: HttpLogger, bodyLimitBytes: number): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let problem = error instanceof HttpProblem ? error : problemForParserError(error, bodyLimitBytes);
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
