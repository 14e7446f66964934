import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { contextOf } from './request-context.js';

/** Names the matched route for the access log and metrics; the raw path would explode label cardinality. */
export const labelRoute =
  (pattern: string): RequestHandler =>
  (req: Request, _res: Response, next: NextFunction): void => {
    contextOf(req).route = pattern;
    next();
  };
