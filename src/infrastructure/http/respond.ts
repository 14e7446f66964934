import type { Request, Response } from 'express';
import type { ProblemSpec } from './problem.js';
import { PROBLEM_CONTENT_TYPE, problemDocument, problemStatus } from './problem.js';
import { noteProblemCode, requestIdOf } from './request-context.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A complete response, as bytes: what a command produces and what the idempotency store keeps. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * Writes `response` unless something already answered: the request timeout may have sent
 * its 503 while the work went on, and that work still finishes (and records its outcome).
 */
export function send(res: Response, response: RawResponse, extraHeaders: Readonly<Record<string, string>> = {}): boolean {
  if (res.headersSent) return false;
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
  res.end(response.body);
  return true;
}

export function jsonResponse(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): RawResponse {
  return { status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers }, body: Buffer.from(JSON.stringify(body), 'utf8') };
}

export function problemResponse(req: Request, spec: ProblemSpec): RawResponse {
  noteProblemCode(req, spec.code);
  const doc = problemDocument(spec, { instance: req.originalUrl.split('?')[0] ?? req.path, requestId: requestIdOf(req) });
  return {
    status: problemStatus(spec.code),
    headers: {
      ...(spec.headers ?? {}),
      'content-type': PROBLEM_CONTENT_TYPE,
      ...(spec.retryAfterSeconds !== undefined ? { 'retry-after': String(spec.retryAfterSeconds) } : {}),
    },
    body: Buffer.from(JSON.stringify(doc), 'utf8'),
  };
}

/**
 * JSON for a GET: goes through res.send so that a matching If-None-Match answers 304
 * (Express compares it with the ETag we set).
 */
export function sendJson(res: Response, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) return;
  res.status(status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', JSON_CONTENT_TYPE);
  res.send(JSON.stringify(body));
}
