import type { Express, NextFunction, Request, Response } from 'express';
import type { Principal } from '../../../application/auth/principal.js';
import { canSeeCustomer } from '../../../application/auth/principal.js';
import type { EvidenceError } from '../../../application/disputes/dispute-command-handlers.js';
import { isDisputeId } from '../../../domain/ids.js';
import { DISPUTES_PROJECTION } from '../../../projections/disputes/disputes-projection.js';
import { principalOf, requireScope } from '../auth.js';
import { runCommandFor } from '../command-runner.js';
import type { DisputeHttpDeps, HttpDeps, HttpLimits } from '../deps.js';
import { GetDisputeQuery, ListDisputesQuery, SubmitEvidenceBody } from '../dispute-schemas.js';
import { jsonBody } from '../json-body.js';
import { etagFor } from '../preconditions.js';
import type { ProblemSpec } from '../problem.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { contextOf } from '../request-context.js';
import { route } from '../route-label.js';
import { LimitSchema } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { disputeWireForm } from '../wire-form.js';
import { noQueryParameters } from './payment-commands.js';

/** A malformed id cannot name a dispute: 404 without touching the read model. */
function requireDisputeId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  next(typeof id === 'string' && isDisputeId(id) ? undefined : new HttpProblem({ code: 'dispute_not_found', detail: 'No dispute has this id.' }));
}

function listCustomer(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.customerId === null) return requested;
  if (requested !== undefined && requested !== principal.customerId) {
    throw new HttpProblem({
      code: 'forbidden',
      detail: 'This credential may list only its own customer\'s disputes.',
      errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to, or absent' }],
    });
  }
  return principal.customerId;
}

function evidenceProblem(error: EvidenceError): ProblemSpec {
  switch (error.code) {
    case 'dispute_not_found':
      return { code: 'dispute_not_found', detail: `No dispute has the id ${error.disputeId}.` };
    case 'dispute_not_accepting_evidence':
      return { code: 'dispute_not_accepting_evidence', detail: `Dispute ${error.disputeId} is ${error.status}: evidence is taken only while it is needs_response or warning_needs_response.` };
    case 'dispute_evidence_unsupported':
      return { code: 'dispute_evidence_unsupported', detail: 'The configured payment provider cannot submit evidence for this dispute.' };
    case 'dispute_inconsistent':
      return { code: 'dispute_inconsistent', detail: error.message };
    case 'payment_not_found':
      return { code: 'payment_not_found', detail: 'The disputed payment is not known to the processor index.' };
    case 'concurrency_conflict':
      return { code: 'concurrency_conflict', detail: `The dispute changed concurrently ${error.attempts} times; retry.`, retryAfterSeconds: 1 };
  }
}

/**
 * Disputes (issue 10): GET /v1/disputes/:id and GET /v1/disputes (payments:read; a
 * customer-scoped caller sees only its customer's, another's is the same 404 as none), and
 * POST /v1/disputes/:id/evidence (payments:write): the evidence goes to the processor, whose
 * answer is synced like any other (under the simulated processor, `winning_evidence` wins
 * and `losing_evidence` loses, as in Stripe's test mode; Stripe answers `under_review` and
 * decides later, by webhook).
 */
export function registerDisputeRoutes(app: Express, deps: HttpDeps, disputes: DisputeHttpDeps, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);
  const read = requireScope('payments:read');
  const waitFor = (minPosition: string | undefined) => awaitReadModel(deps.readModels, DISPUTES_PROJECTION, minPosition, limits.minPositionWaitMs);

  route(app, 'get', '/v1/disputes/:id', read, requireDisputeId, async (req, res) => {
    const query = parseOrThrow(GetDisputeQuery, req.query);
    await waitFor(query.minPosition);
    const id = String(req.params.id);
    const dispute = await disputes.queries.get(id);
    if (!dispute || !canSeeCustomer(principalOf(res), dispute.customerId)) throw new HttpProblem({ code: 'dispute_not_found', detail: `No dispute has the id ${id}.` });
    sendJson(res, 200, disputeWireForm(dispute), { etag: etagFor(dispute.revision) });
  });

  route(app, 'get', '/v1/disputes', read, async (req, res) => {
    const query = parseOrThrow(ListDisputesQuery, req.query);
    const principal = principalOf(res);
    const customerId = listCustomer(principal, query.customerId);
    await waitFor(query.minPosition);
    const page = await disputes.queries.list({ paymentId: query.paymentId, customerId, status: query.status, limit: query.limit ?? defaultLimit, cursor: query.cursor });
    if (!page.ok) {
      throw new HttpProblem({ code: 'invalid_cursor', detail: 'The cursor is not one this API issued, or it has expired.', errors: [{ path: 'cursor', message: 'is not valid' }] });
    }
    const data = page.value.data.filter((d) => canSeeCustomer(principal, d.customerId));
    if (data.length !== page.value.data.length) {
      deps.logger.error({ requestId: contextOf(req).requestId, dropped: page.value.data.length - data.length }, 'dispute list returned rows of another customer');
    }
    sendJson(res, 200, { data: data.map(disputeWireForm), nextCursor: page.value.nextCursor });
  });

  const body = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  route(app, 'post', '/v1/disputes/:id/evidence', requireScope('payments:write'), noQueryParameters, requireDisputeId, body, async (req, res) => {
    if (req.get('if-match') !== undefined) throw validationProblem([{ path: 'If-Match', message: 'is not supported when submitting evidence' }], 'If-Match is not supported when submitting evidence.');
    const rawBody: unknown = req.body;
    const parsed = parseOrThrow(SubmitEvidenceBody, rawBody);
    const id = String(req.params.id);
    await runCommandFor(deps, req, res, {
      name: 'dispute_evidence',
      successStatus: 200,
      rawBody,
      execute: async (ctx) => {
        const done = await disputes.evidence.submitEvidence(id, parsed.text, ctx);
        return done.ok ? { ok: true, value: { dispute: done.value.dispute, position: done.value.position ?? undefined, replayed: false } } : done;
      },
      render: (value) => ({ body: disputeWireForm(value.dispute), revision: BigInt(value.dispute.revision) }),
      problem: evidenceProblem,
    });
  });
}
