import type { Request } from 'express';

/** What the HTTP layer knows about one request beyond Express's own fields. */
export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: bigint;
  /** The route pattern once a route matched, for logs and metric labels. */
  route: string | undefined;
  /** Why authentication refused the request (an AuthenticationError code), for the access log. */
  authFailure?: string | undefined;
  /** The problem `code` of an error response, for the access log. */
  problemCode?: string | undefined;
}

// A WeakMap rather than res.locals, which is typed `any` and shared with every middleware.
const contexts = new WeakMap<Request, RequestContext>();

export function attachContext(req: Request, context: RequestContext): void {
  contexts.set(req, context);
}

export function contextOf(req: Request): RequestContext {
  const context = contexts.get(req);
  if (!context) throw new Error('request context missing: the request-id middleware must run first');
  return context;
}

/** The request's id without throwing: the error handler runs even when early middleware did not. */
export const requestIdOf = (req: Request): string => contexts.get(req)?.requestId ?? 'unknown';

/** Notes the problem code a response carries; a no-op for a request without context. */
export function noteProblemCode(req: Request, code: string): void {
  const context = contexts.get(req);
  if (context) context.problemCode = code;
}
