import type { Express, NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import type { CommandContext } from '../../../application/command-context.js';
import type { PaymentCommandResult } from '../../../application/payments/payment-command-handlers.js';
import { isPaymentId } from '../../../domain/ids.js';
import { money } from '../../../domain/money.js';
import { requireScope } from '../auth.js';
import { runCommand } from '../command-runner.js';
import type { HttpDeps, HttpLimits } from '../deps.js';
import { jsonBody } from '../json-body.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { route } from '../route-label.js';
import { CancelPaymentBody, CapturePaymentBody, CommandQuery, CreatePaymentBody } from '../schemas.js';
import { parseOrThrow } from '../validation.js';

/** A malformed id cannot name a payment: 404 without touching the store. */
export function requirePaymentId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  if (typeof id !== 'string' || !isPaymentId(id)) {
    // Not echoed: whatever was sent is not an id, and a problem is no place to reflect input.
    next(new HttpProblem({ code: 'payment_not_found', detail: 'No payment has this id.' }));
    return;
  }
  next();
}

/** The :id of a route behind requirePaymentId. */
export const paymentIdOf = (req: Request): string => String(req.params.id);

/** Commands take no query string; checked before the body is read. */
export function noQueryParameters(req: Request, _res: Response, next: NextFunction): void {
  parseOrThrow(CommandQuery, req.query);
  next();
}

/**
 * Payment commands: behind `authenticate` (app.ts), each needs payments:write. The scope
 * and the query string are checked before the body is read; a customer-scoped caller's
 * customer goes into the CommandContext, which confines what the handlers touch.
 */
export function registerPaymentCommandRoutes(app: Express, deps: HttpDeps, limits: HttpLimits): void {
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  const optional = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: true });
  const write = requireScope('payments:write');

  route(app, 'post', '/v1/payments', write, noQueryParameters, required, async (req, res) => {
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
            // On-session: the customer is here, so a card that needs authentication declines as it always did.
            ...(body.providerCustomerId === undefined ? {} : { providerCustomerId: body.providerCustomerId }),
          },
          ctx,
        ),
    });
  });

  /** Capture and cancel: a command on one payment, with an optional body. */
  const onPayment = <S extends z.ZodType>(
    name: 'capture' | 'cancel',
    schema: S,
    execute: (paymentId: string, body: z.output<S>, ctx: CommandContext) => Promise<PaymentCommandResult>,
  ): void =>
    route(app, 'post', `/v1/payments/:id/${name}`, write, noQueryParameters, requirePaymentId, optional, async (req, res) => {
      const rawBody: unknown = req.body;
      const body = parseOrThrow(schema, rawBody);
      await runCommand(deps, req, res, { name, successStatus: 200, rawBody, execute: (ctx) => execute(paymentIdOf(req), body, ctx) });
    });

  onPayment('capture', CapturePaymentBody, (paymentId, body, ctx) => deps.payments.capture(paymentId, body.amount, ctx));
  onPayment('cancel', CancelPaymentBody, (paymentId, body, ctx) => deps.payments.cancel(paymentId, body.reason ?? null, ctx));
}
