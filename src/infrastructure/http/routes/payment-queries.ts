import type { Express } from 'express';
import { canSeeCustomer } from '../../../application/auth/principal.js';
import { principalOf, requireScope } from '../auth.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { etagFor } from '../preconditions.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { contextOf } from '../request-context.js';
import { route } from '../route-label.js';
import { GetPaymentQuery, LimitSchema, ListPaymentsQuery } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { paymentWireForm } from '../wire-form.js';
import { paymentIdOf, requirePaymentId } from './payment-commands.js';
import { withDisputes } from './payment-disputes.js';

/** The read model the payment queries read, and so the one `minPosition` waits for. */
export const PAYMENTS_PROJECTION = 'payments';

/**
 * Payment queries: behind `authenticate` (app.ts), each needs payments:read. A
 * customer-scoped caller sees only its customer's payments:
 *
 * - GET /v1/payments/:id of another customer's payment is the same 404 as a payment that
 *   does not exist, so existence does not leak.
 * - GET /v1/payments lists only its customer: without `customerId` the filter is implied;
 *   `customerId` naming another customer is a 403 (asking is the client's bug; an empty
 *   page would look like "that customer has no payments"). Whatever the read model
 *   answers, rows of other customers are dropped before the response.
 */
export function registerPaymentQueryRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);
  const read = requireScope('payments:read');

  route(app, 'get', '/v1/payments/:id', read, requirePaymentId, async (req, res) => {
    const query = parseOrThrow(GetPaymentQuery, req.query);
    await awaitReadModel(deps.readModels, PAYMENTS_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const id = paymentIdOf(req);
    const payment = await deps.paymentQueries.get(id);
    if (!payment || !canSeeCustomer(principalOf(res), payment.customerId)) {
      throw new HttpProblem({ code: 'payment_not_found', detail: `No payment has the id ${id}.` });
    }
    const [shown] = await withDisputes(deps, [payment]);
    sendJson(res, 200, paymentWireForm(shown ?? payment), { etag: etagFor(payment.revision) });
  });

  route(app, 'get', '/v1/payments', read, async (req, res) => {
    const query = parseOrThrow(ListPaymentsQuery, req.query);
    const principal = principalOf(res);
    let customerId = query.customerId;
    if (principal.customerId !== null) {
      if (customerId !== undefined && customerId !== principal.customerId) {
        throw new HttpProblem({
          code: 'forbidden',
          detail: 'This credential may list only its own customer\'s payments.',
          errors: [{ path: 'customerId', message: 'must be the customer the credential belongs to, or absent' }],
        });
      }
      customerId = principal.customerId;
    }
    await awaitReadModel(deps.readModels, PAYMENTS_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const page = await deps.paymentQueries.list({
      customerId,
      status: query.status,
      limit: query.limit ?? defaultLimit,
      cursor: query.cursor,
    });
    if (!page.ok) {
      throw new HttpProblem({
        code: 'invalid_cursor',
        detail: 'The cursor is not one this API issued, or it has expired.',
        errors: [{ path: 'cursor', message: 'is not valid' }],
      });
    }
    // The filter above is the rule; this makes sure no other customer's row ever leaves.
    const data = page.value.data.filter((payment) => canSeeCustomer(principal, payment.customerId));
    if (data.length !== page.value.data.length) {
      deps.logger.error({ requestId: contextOf(req).requestId, dropped: page.value.data.length - data.length }, 'payment list returned rows of another customer');
    }
    sendJson(res, 200, { data: (await withDisputes(deps, data)).map(paymentWireForm), nextCursor: page.value.nextCursor });
  });
}
