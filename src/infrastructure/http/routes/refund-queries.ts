import type { Express, NextFunction, Request, Response } from 'express';
import type { Principal } from '../../../application/auth/principal.js';
import { canSeeCustomer } from '../../../application/auth/principal.js';
import type { RefundPage } from '../../../application/ports/refund-queries.js';
import type { RefundView } from '../../../application/refunds/refund-view.js';
import { isRefundId } from '../../../domain/ids.js';
import type { Result } from '../../../domain/result.js';
import { REFUNDS_PROJECTION } from '../../../projections/refunds/refunds-projection.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { etagFor } from '../preconditions.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { contextOf } from '../request-context.js';
import { route } from '../route-label.js';
import { GetRefundQuery, LimitSchema, ListPaymentRefundsQuery, ListRefundsQuery } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { refundWireForm } from '../wire-form.js';
import { paymentIdOf, requirePaymentId } from './payment-commands.js';
import { PAYMENTS_PROJECTION } from './payment-queries.js';

/** A malformed id cannot name a refund: 404 without touching the read model. */
function requireRefundId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  // Not echoed: whatever was sent is not an id, and a problem is no place to reflect input.
  next(typeof id === 'string' && isRefundId(id) ? undefined : new HttpProblem({ code: 'refund_not_found', detail: 'No refund has this id.' }));
}

/**
 * The customer a list is confined to: the one asked for, or for a customer-scoped caller
 * its own (asking for another is a 403: an empty page would read as "no refunds").
 */
function listCustomer(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.customerId === null) return requested;
  if (requested !== undefined && requested !== principal.customerId) {
    throw new HttpProblem({
      code: 'forbidden',
      detail: 'This credential may list only its own customer\'s refunds.',
      errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to, or absent' }],
    });
  }
  return principal.customerId;
}

/** A page as the wire shows it; a cursor we did not issue is a 400, and no other customer's row ever leaves. */
function sendPage(req: Request, res: Response, deps: HttpDeps, page: Result<RefundPage, unknown>): void {
  if (!page.ok) {
    throw new HttpProblem({
      code: 'invalid_cursor',
      detail: 'The cursor is not one this API issued, or it has expired.',
      errors: [{ path: 'cursor', message: 'is not valid' }],
    });
  }
  const principal = principalOf(res);
  const data = page.value.data.filter((refund) => canSeeCustomer(principal, refund.customerId));
  if (data.length !== page.value.data.length) {
    deps.logger.error({ requestId: contextOf(req).requestId, dropped: page.value.data.length - data.length }, 'refund list returned rows of another customer');
  }
  sendJson(res, 200, { data: data.map((refund: RefundView) => refundWireForm(refund)), nextCursor: page.value.nextCursor });
}

/**
 * Refund queries (docs/architecture.md, "Public contract"; the same conventions as the
 * payment queries): behind `authenticate` (app.ts), each needs payments:read, and a
 * customer-scoped caller sees only refunds of its own customer's payments. Another
 * customer's refund or payment is the same 404 as one that does not exist.
 * `?minPosition=` waits for the refunds read model (and, for a payment's refunds, for the
 * payments read model too, which says whether the payment exists).
 */
export function registerRefundQueryRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);
  const read = requireScope('payments:read');
  const waitFor = (projection: string, minPosition: string | undefined) => awaitReadModel(deps.readModels, projection, minPosition, limits.minPositionWaitMs);

  route(app, 'get', '/v1/refunds/:id', read, requireRefundId, async (req, res) => {
    const query = parseOrThrow(GetRefundQuery, req.query);
    await waitFor(REFUNDS_PROJECTION, query.minPosition);
    const id = String(req.params.id);
    const refund = await deps.refundQueries.get(id);
    if (!refund || !canSeeCustomer(principalOf(res), refund.customerId)) {
      throw new HttpProblem({ code: 'refund_not_found', detail: `No refund has the id ${id}.` });
    }
    sendJson(res, 200, refundWireForm(refund), { etag: etagFor(refund.revision) });
  });

  route(app, 'get', '/v1/refunds', read, async (req, res) => {
    const query = parseOrThrow(ListRefundsQuery, req.query);
    const customerId = listCustomer(principalOf(res), query.customerId);
    await waitFor(REFUNDS_PROJECTION, query.minPosition);
    const page = await deps.refundQueries.list({
      paymentId: query.paymentId,
      customerId,
      status: query.status,
      limit: query.limit ?? defaultLimit,
      cursor: query.cursor,
    });
    sendPage(req, res, deps, page);
  });

  route(app, 'get', '/v1/payments/:id/refunds', read, requirePaymentId, async (req, res) => {
    const query = parseOrThrow(ListPaymentRefundsQuery, req.query);
    await waitFor(PAYMENTS_PROJECTION, query.minPosition);
    await waitFor(REFUNDS_PROJECTION, query.minPosition);
    const paymentId = paymentIdOf(req);
    const principal = principalOf(res);
    const payment = await deps.paymentQueries.get(paymentId);
    if (!payment || !canSeeCustomer(principal, payment.customerId)) {
      throw new HttpProblem({ code: 'payment_not_found', detail: `No payment has the id ${paymentId}.` });
    }
    const page = await deps.refundQueries.list({
      paymentId,
      customerId: principal.customerId ?? undefined,
      limit: query.limit ?? defaultLimit,
      cursor: query.cursor,
    });
    sendPage(req, res, deps, page);
  });
}
