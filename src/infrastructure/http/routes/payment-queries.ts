import type { Express } from 'express';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { etagFor } from '../preconditions.js';
import { HttpProblem } from '../problem.js';
import { awaitReadModel } from '../read-model-wait.js';
import { sendJson } from '../respond.js';
import { labelRoute } from '../route-label.js';
import { GetPaymentQuery, LimitSchema, ListPaymentsQuery } from '../schemas.js';
import { parseOrThrow } from '../validation.js';
import { paymentIdOf, requirePaymentId } from './payment-commands.js';

/** The read model the payment queries read, and so the one `minPosition` waits for. */
export const PAYMENTS_PROJECTION = 'payments';

export function registerPaymentQueryRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const defaultLimit = LimitSchema.parse(undefined);

  app.get('/v1/payments/:id', labelRoute('/v1/payments/:id'), requirePaymentId, async (req, res) => {
    const query = parseOrThrow(GetPaymentQuery, req.query);
    await awaitReadModel(deps.readModels, PAYMENTS_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const id = paymentIdOf(req);
    const payment = await deps.paymentQueries.get(id);
    if (!payment) throw new HttpProblem({ code: 'payment_not_found', detail: `No payment has the id ${id}.` });
    sendJson(res, 200, payment, { etag: etagFor(payment.revision) });
  });

  app.get('/v1/payments', labelRoute('/v1/payments'), async (req, res) => {
    const query = parseOrThrow(ListPaymentsQuery, req.query);
    await awaitReadModel(deps.readModels, PAYMENTS_PROJECTION, query.minPosition, limits.minPositionWaitMs);
    const page = await deps.paymentQueries.list({
      customerId: query.customerId,
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
    sendJson(res, 200, { data: page.value.data, nextCursor: page.value.nextCursor });
  });
}
