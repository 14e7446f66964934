import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { contextOf } from './request-context.js';

/** Names the matched route for the access log and metrics; the raw path would explode label cardinality. */
export const labelRoute =
  (pattern: string): RequestHandler =>
  (req: Request, _res: Response, next: NextFunction): void => {
    contextOf(req).route = pattern;
    next();
  };

/** The label of a request that matches no route: one value, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

type Segment = { readonly literal: string } | { readonly param: true };

interface RouteEntry {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly Segment[];
}

const splitPath = (path: string): string[] => path.split('/').filter((s) => s !== '');

/**
 * The route patterns an app serves. Authentication and rate limits run before routing
 * (so that a 401 never reveals which paths exist), which leaves a refused request without
 * a matched route; the access log asks this table instead, so a 401 or 429 on
 * `POST /v1/payments/pay_…/capture` is counted under `/v1/payments/:id/capture`, not
 * `unmatched`. Only unlabelled requests consult it: a matched route costs nothing extra.
 */
export class RouteTable {
  private readonly entries: RouteEntry[] = [];

  /** Every route as registered: method (upper case) and pattern. */
  routes(): readonly { readonly method: string; readonly pattern: string }[] {
    return this.entries.map(({ method, pattern }) => ({ method, pattern }));
  }

  add(method: string, pattern: string): void {
    const segments = splitPath(pattern).map((s): Segment => (s.startsWith(':') ? { param: true } : { literal: s.toLowerCase() }));
    this.entries.push({ method: method.toUpperCase(), pattern, segments });
  }

  /**
   * The pattern Express would route `method path` to, or undefined. Like Express's
   * defaults: case-insensitive, a trailing slash ignored, HEAD served by GET; where two
   * patterns match, the one with more literal segments wins (`/a/b` over `/a/:id`).
   */
  match(method: string, path: string): string | undefined {
    const wanted = method.toUpperCase();
    const parts = splitPath(path).map((p) => p.toLowerCase());
    let best: { pattern: string; literals: number } | undefined;
    for (const entry of this.entries) {
      if (entry.method !== wanted && !(wanted === 'HEAD' && entry.method === 'GET')) continue;
      if (entry.segments.length !== parts.length) continue;
      let literals = 0;
      const fits = entry.segments.every((segment, i) => {
        if ('param' in segment) return true;
        literals += 1;
        return segment.literal === parts[i];
      });
      if (fits && (best === undefined || literals > best.literals)) best = { pattern: entry.pattern, literals };
    }
    return best?.pattern;
  }
}

const tables = new WeakMap<Express, RouteTable>();

/** The route table of `app`, created on first use. */
export function routeTableOf(app: Express): RouteTable {
  let table = tables.get(app);
  if (!table) {
    table = new RouteTable();
    tables.set(app, table);
  }
  return table;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Registers a route: `app[method](pattern, labelRoute(pattern), ...handlers)`, and the
 * pattern in the app's route table. Every route goes through here, so every route is
 * labelled the same way whether or not routing reached it.
 */
export function route(app: Express, method: Method, pattern: string, ...handlers: RequestHandler[]): void {
  routeTableOf(app).add(method, pattern);
  app[method](pattern, labelRoute(pattern), ...handlers);
}

/**
 * The label of a request no route matched: the route it was meant for (a 401 or 429
 * given before routing), else `unmatched`. Called only for those, so a matched request
 * never pays for the lookup.
 */
export function unmatchedRouteLabel(req: Request): string {
  const path = (req.originalUrl || req.url).split('?')[0] ?? '';
  return routeTableOf(req.app as Express).match(req.method, path) ?? UNMATCHED_ROUTE;
}
