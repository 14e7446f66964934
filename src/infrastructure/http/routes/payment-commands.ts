import type { Express, NextFunction, Request, Response } from 'express';
import { isPaymentId } from '../../../domain/ids.js';
import { money } from '../../../domain/money.js';
import { runCommand } from '../command-runner.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { jsonBody } from '../json-body.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { labelRoute } from '../route-label.js';
import { CancelPaymentBody, CapturePaymentBody, CreatePaymentBody } from '../schemas.js';
import { parseOrThrow } from '../validation.js';

/** A malformed id cannot name a payment: 404 without touching the store. */
export function requirePaymentId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  if (typeof id !== 'string' || !isPaymentId(id)) {
    next(new HttpProblem({ code: 'payment_not_found', detail: `No payment has the id ${String(id)}.` }));
    return;
  }
  next();
}

/** The :id of a route behind requirePaymentId. */
export const paymentIdOf = (req: Request): string => String(req.params.id);

export function registerPaymentCommandRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  const optional = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: true });

  app.post('/v1/payments', labelRoute('/v1/payments'), required, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CreatePaymentBody, rawBody);
    // The schema already allows only table currencies and safe minor units; this makes the type.
    const amount = money(body.amount, body.currency);
    if (!amount.ok) throw validationProblem([{ path: amount.error.code === 'invalid_currency' ? 'currency' : 'amount', message: 'is not valid' }]);
    await runCommand(deps, req, res, {
      name: 'create',
      successStatus: 201,
      rawBody,
      execute: (ctx) =>
        deps.payments.create(
          {
            customerId: body.customerId,
            amount: amount.value,
            paymentMethod: body.paymentMethod,
            captureMethod: body.captureMethod,
            description: body.description ?? null,
            metadata: body.metadata ?? {},
          },
          ctx,
        ),
    });
  });

  app.post('/v1/payments/:id/capture', labelRoute('/v1/payments/:id/capture'), requirePaymentId, optional, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CapturePaymentBody, rawBody);
    await runCommand(deps, req, res, {
      name: 'capture',
      successStatus: 200,
      rawBody,
      execute: (ctx) => deps.payments.capture(paymentIdOf(req), body.amount, ctx),
    });
  });

  app.post('/v1/payments/:id/cancel', labelRoute('/v1/payments/:id/cancel'), requirePaymentId, optional, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CancelPaymentBody, rawBody);
    await runCommand(deps, req, res, {
      name: 'cancel',
      successStatus: 200,
      rawBody,
      execute: (ctx) => deps.payments.cancel(paymentIdOf(req), body.reason ?? null, ctx),
    });
  });
}
