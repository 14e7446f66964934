import type { Express } from 'express';
import { requireScope } from '../auth.js';
import { runCommand } from '../command-runner.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { jsonBody } from '../json-body.js';
import { validationProblem } from '../problem.js';
import { route } from '../route-label.js';
import { CreateRefundBody } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { noQueryParameters } from './payment-commands.js';

/**
 * POST /v1/refunds: behind `authenticate` (app.ts), needs refunds:write. Same Idempotency-Key,
 * ETag (the refund stream's revision) and Ledger-Position conventions as payment commands,
 * through the command runner.
 *
 * If-Match is refused (400): a create has no revision of its own to match, and the
 * payment's revision is not the caller's to pin (concurrent refunds move it by design;
 * refundable is checked and reserved in one append at the revision the handler read).
 */
export function registerRefundCommandRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });

  route(app, 'post', '/v1/refunds', requireScope('refunds:write'), noQueryParameters, required, async (req, res) => {
    if (req.get('if-match') !== undefined) {
      throw validationProblem([{ path: 'If-Match', message: 'is not supported when creating a refund' }], 'If-Match is not supported when creating a refund.');
    }
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CreateRefundBody, rawBody);
    await runCommand(deps, req, res, {
      name: 'refund',
      successStatus: 201,
      rawBody,
      execute: (ctx) =>
        deps.refunds.create({ paymentId: body.paymentId, amount: body.amount, reason: body.reason ?? null, metadata: body.metadata ?? {} }, ctx),
    });
  });
}
