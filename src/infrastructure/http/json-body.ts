import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpProblem, validationProblem } from './problem.js';

/** A body is present when the client said so: chunked, or a non-zero Content-Length. */
const hasBody = (req: Request): boolean => {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
};

/**
 * Reads a JSON body into `req.body`. A body of another media type is a 415 before a byte
 * is read; a missing body is `{}` when `optional` (capture and cancel take none) and a
 * 400 otherwise. Size, syntax and charset errors come from the parser and are turned
 * into problems by the error handler (see `problemForParserError`).
 */
export function jsonBody(options: { readonly limitBytes: number; readonly optional: boolean }): RequestHandler {
  // The media type is checked here, so the parser may accept whatever reaches it.
  const parse = express.json({ limit: options.limitBytes, strict: true, type: () => true });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!hasBody(req)) {
      if (!options.optional) {
        next(new HttpProblem({ code: 'validation_failed', detail: 'A JSON body is required.', errors: [{ path: '', message: 'is required' }] }));
        return;
      }
      req.body = {};
      next();
      return;
    }
    if (!req.is(['application/json', 'application/*+json'])) {
      next(new HttpProblem({ code: 'unsupported_media_type', detail: 'Send the body as application/json.' }));
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      // An exception here would escape Express (this runs in the parser's callback) and end the process.
      try {
        const problem = bodyShapeProblem(req.body);
        next(problem);
      } catch (scanError) {
        next(scanError);
      }
    });
  };
}

/** Deeper than any body of this API; deep enough for any client's JSON. */
export const MAX_BODY_DEPTH = 32;

/** The reason a parsed body is refused before validation, if any: too deep, or a "__proto__" member. */
export function bodyShapeProblem(value: unknown): HttpProblem | undefined {
  const found = scanBody(value);
  if (found === undefined) return undefined;
  return found.kind === 'too_deep'
    ? validationProblem([{ path: found.path, message: `nests deeper than ${MAX_BODY_DEPTH} levels` }], `The body nests deeper than ${MAX_BODY_DEPTH} levels.`)
    : validationProblem([{ path: found.path, message: 'is not an allowed field name' }]);
}

/**
 * Where the body has a "__proto__" member, if anywhere. JSON.parse keeps it as a plain
 * field, but copying it into another object (as schema validators do for records)
 * assigns a prototype instead: the field silently vanishes, or worse. No field of this
 * API is called that, so it is refused outright.
 */
export function prototypeKeyPath(value: unknown): string | undefined {
  const found = scanBody(value, Number.POSITIVE_INFINITY);
  return found?.kind === 'prototype_key' ? found.path : undefined;
}

interface Visit {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Visit | undefined;
  readonly key: string | undefined;
}

const pathOf = (visit: Visit): string => {
  const keys: string[] = [];
  for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) keys.push(v.key);
  return keys.reverse().join('.');
};

/**
 * One pass over the parsed body, iterative (a hostile body nests tens of thousands of
 * levels deep within the size limit; recursion would overflow the stack), in document
 * order, stopping at the first finding.
 */
function scanBody(root: unknown, maxDepth = MAX_BODY_DEPTH): { kind: 'too_deep' | 'prototype_key'; path: string } | undefined {
  const stack: Visit[] = [{ value: root, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const { value } = visit;
    if (value === null || typeof value !== 'object') continue;
    if (visit.depth >= maxDepth) return { kind: 'too_deep', path: pathOf(visit) };
    const children: Visit[] = [];
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => children.push({ value: item, depth: visit.depth + 1, parent: visit, key: String(i) }));
    } else {
      for (const key of Object.keys(value)) {
        const child: Visit = { value: (value as Record<string, unknown>)[key], depth: visit.depth + 1, parent: visit, key };
        if (key === '__proto__') return { kind: 'prototype_key', path: pathOf(child) };
        children.push(child);
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Visit);
  }
  return undefined;
}

interface ParserError {
  readonly type: string;
  readonly status: number;
}

const isParserError = (error: unknown): error is ParserError =>
  error instanceof Error &&
  typeof (error as Partial<ParserError>).type === 'string' &&
  typeof (error as Partial<ParserError>).status === 'number';

/** The body parser's errors (tagged with a `type`) as problems; undefined for anything else. */
export function problemForParserError(error: unknown, limitBytes: number): HttpProblem | undefined {
  if (!isParserError(error)) return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpProblem({ code: 'malformed_json', detail: 'The body could not be parsed as a JSON object or array.' });
    case 'entity.too.large':
      return new HttpProblem({ code: 'payload_too_large', detail: `The body must be at most ${limitBytes} bytes.` });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem({ code: 'unsupported_media_type', detail: 'Send the body as UTF-8 JSON without a content encoding.' });
    default:
      // Aborted or mis-sized uploads: the client's fault, nothing to explain beyond that.
      return error.status >= 400 && error.status < 500
        ? new HttpProblem({ code: 'validation_failed', detail: 'The request body could not be read.' })
        : undefined;
  }
}
