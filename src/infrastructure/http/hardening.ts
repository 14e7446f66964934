import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { IDEMPOTENT_REPLAYED_HEADER, LEDGER_POSITION_HEADER } from './command-runner.js';
import type { CorsOptions } from './deps.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** One year, as HSTS preload lists expect. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * Security headers for an API that serves JSON and nothing a browser should render or
 * frame: a CSP of `default-src 'none'` (and no framing), X-Frame-Options DENY, nosniff,
 * no referrer, and in production Strict-Transport-Security. Helmet's other defaults stay.
 */
export function securityHeaders(options: { readonly production: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    xContentTypeOptions: true,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: options.production ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true } : false,
  });
}

/** An origin as browsers send it: scheme, host, optional port; nothing else. */
export function isExactOrigin(origin: string): boolean {
  if (origin === '*' || origin === 'null') return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
  } catch {
    return false;
  }
}

/**
 * CORS for the configured origins only; none configured, no cross-origin access (no
 * middleware at all, so no CORS header is ever sent). Bearer tokens travel in a header,
 * so credentials (cookies) are not allowed. A wildcard or a malformed origin is refused
 * at start rather than silently widening access.
 */
export function corsPolicy(options: CorsOptions): RequestHandler | undefined {
  if (options.origins.length === 0) return undefined;
  const bad = options.origins.filter((o) => !isExactOrigin(o));
  if (bad.length > 0) throw new Error(`CORS origins must be exact origins like https://app.example.com; not: ${bad.join(', ')}`);
  const allowed = new Set(options.origins);
  return cors({
    origin: [...allowed],
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', REQUEST_ID_HEADER],
    exposedHeaders: [
      LEDGER_POSITION_HEADER,
      'ETag',
      'Location',
      IDEMPOTENT_REPLAYED_HEADER,
      'Retry-After',
      'WWW-Authenticate',
      REQUEST_ID_HEADER,
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'RateLimit-Policy',
    ],
    credentials: false,
    maxAge: 600,
  });
}

/** API responses carry account data: no cache along the way may keep them. */
export const noStore: RequestHandler = (_req: Request, res: Response, next: NextFunction): void => {
  res.setHeader('cache-control', 'no-store');
  next();
};
