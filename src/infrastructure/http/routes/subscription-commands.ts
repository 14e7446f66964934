import type { Express, NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import type { CommandContext } from '../../../application/command-context.js';
import type { SubscriptionCommandError, SubscriptionCommandResult, SubscriptionWritten } from '../../../application/subscriptions/subscription-command-handlers.js';
import { toSubscriptionView } from '../../../application/subscriptions/subscription-view.js';
import { isSubscriptionId } from '../../../domain/ids.js';
import type { Result } from '../../../domain/result.js';
import { ok } from '../../../domain/result.js';
import type { SubscriptionPrice } from '../../../domain/subscription/index.js';
import { principalOf, requireScope } from '../auth.js';
import type { CommandSuccess, RenderedAnswer } from '../command-runner.js';
import { runCommandFor } from '../command-runner.js';
import type { BillingHttpDeps, CommandName, HttpDeps, HttpLimits } from '../deps.js';
import { jsonBody } from '../json-body.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { route } from '../route-label.js';
import type { PriceSchema} from '../subscription-schemas.js';
import { CancelSubscriptionBody, ChangePriceBody, CreateSubscriptionBody, EmptyCommandBody, UpdateSubscriptionBody } from '../subscription-schemas.js';
import { problemForSubscriptionError } from '../subscription-problems.js';
import { parseOrThrow } from '../validation.js';
import { subscriptionWireForm } from '../wire-form.js';
import { noQueryParameters } from './payment-commands.js';

/** A malformed id cannot name a subscription: 404 without touching the store. */
export function requireSubscriptionId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  // Not echoed: whatever was sent is not an id, and a problem is no place to reflect input.
  next(typeof id === 'string' && isSubscriptionId(id) ? undefined : new HttpProblem({ code: 'subscription_not_found', detail: 'No subscription has this id.' }));
}

/** If-Match on a create names no revision of its own: refused rather than ignored. */
export function refuseIfMatch(what: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(req.get('if-match') === undefined ? undefined : validationProblem([{ path: 'If-Match', message: `is not supported when ${what}` }], `If-Match is not supported when ${what}.`));
  };
}

/** A subscription command's success as the runner sees it, with the latest invoice the read model knows. */
interface SubscriptionAnswer extends CommandSuccess {
  readonly written: SubscriptionWritten;
  readonly latestInvoice: string | null;
}

const toPrice = (price: z.output<typeof PriceSchema>): SubscriptionPrice => ({
  amount: price.amount,
  currency: price.currency,
  interval: price.interval,
  intervalCount: price.intervalCount,
});

/**
 * Subscription commands (docs/architecture.md, "Subscriptions"): behind `authenticate`
 * (app.ts), each needs subscriptions:write, with the payment commands' Idempotency-Key,
 * If-Match (on an existing subscription), ETag and Ledger-Position conventions. A
 * customer-scoped caller creates only for its customer, may not put a subscription on a
 * test clock, and finds another customer's subscription not there (404).
 *
 * The first invoice and its charge are the billing process manager's, after the create
 * has answered: a new subscription is `incomplete` (or `trialing`), and becomes `active`
 * when that invoice is paid (follow it with GET and `?minPosition=`, or `subscription:<id>`).
 */
export function registerSubscriptionCommandRoutes(app: Express, deps: HttpDeps, billing: BillingHttpDeps, limits: HttpLimits): void {
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  const optional = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: true });
  const write = requireScope('subscriptions:write');

  const answer = async (result: SubscriptionCommandResult, create: boolean): Promise<Result<SubscriptionAnswer, SubscriptionCommandError>> => {
    if (!result.ok) return result;
    const written = result.value;
    // A subscription just created has no invoice yet: the process manager issues it after this answer.
    const latestInvoice = create ? null : ((await billing.queries.latestInvoiceIds([written.state.subscriptionId])).get(written.state.subscriptionId) ?? null);
    return ok({ written, latestInvoice, position: written.position, replayed: create && written.unchanged });
  };
  const render = (create: boolean) => (value: SubscriptionAnswer): RenderedAnswer => ({
    body: subscriptionWireForm(toSubscriptionView(value.written.state, value.written.revision, value.latestInvoice)),
    revision: value.written.revision,
    location: create ? `/v1/subscriptions/${value.written.state.subscriptionId}` : undefined,
  });
  const run = (req: Request, res: Response, name: CommandName, rawBody: unknown, create: boolean, execute: (ctx: CommandContext) => Promise<SubscriptionCommandResult>) =>
    runCommandFor<SubscriptionAnswer, SubscriptionCommandError>(deps, req, res, {
      name,
      successStatus: create ? 201 : 200,
      rawBody,
      execute: async (ctx) => answer(await execute(ctx), create),
      render: render(create),
      problem: problemForSubscriptionError,
    });

  route(app, 'post', '/v1/subscriptions', write, noQueryParameters, refuseIfMatch('creating a subscription'), required, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CreateSubscriptionBody, rawBody);
    if (body.testClock !== undefined && principalOf(res).customerId !== null) {
      throw new HttpProblem({
        code: 'forbidden',
        detail: 'Test clocks are an operator\'s tool: a customer-scoped credential cannot put a subscription on one.',
        errors: [{ path: 'testClock', message: 'is not allowed for a customer-scoped credential' }],
      });
    }
    await run(req, res, 'subscription_create', rawBody, true, (ctx) =>
      billing.subscriptions.create(
        {
          customerId: body.customerId,
          testClock: body.testClock ?? null,
          price: toPrice(body.price),
          paymentMethod: body.paymentMethod,
          ...(body.providerCustomerId === undefined ? {} : { providerCustomerId: body.providerCustomerId }),
          trialDays: body.trialDays ?? null,
          metadata: body.metadata ?? {},
        },
        ctx,
      ),
    );
  });

  route(app, 'patch', '/v1/subscriptions/:id', write, noQueryParameters, requireSubscriptionId, required, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(UpdateSubscriptionBody, rawBody);
    const changes = {
      ...(body.paymentMethod !== undefined ? { paymentMethod: body.paymentMethod } : {}),
      ...(body.providerCustomerId !== undefined ? { providerCustomerId: body.providerCustomerId } : {}),
      ...(body.cancelAtPeriodEnd !== undefined ? { cancelAtPeriodEnd: body.cancelAtPeriodEnd } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    };
    await run(req, res, 'subscription_update', rawBody, false, (ctx) => billing.subscriptions.update(String(req.params.id), changes, ctx));
  });

  /** A command on one subscription, at its own path, with the body `schema` describes. */
  const onSubscription = <S extends z.ZodType>(
    path: string,
    name: CommandName,
    schema: S,
    bodyRequired: boolean,
    execute: (id: string, body: z.output<S>, ctx: CommandContext) => Promise<SubscriptionCommandResult>,
  ): void =>
    route(app, 'post', `/v1/subscriptions/:id/${path}`, write, noQueryParameters, requireSubscriptionId, bodyRequired ? required : optional, async (req, res) => {
      const rawBody: unknown = req.body;
      const body = parseOrThrow(schema, rawBody);
      await run(req, res, name, rawBody, false, (ctx) => execute(String(req.params.id), body, ctx));
    });

  onSubscription('cancel', 'subscription_cancel', CancelSubscriptionBody, false, (id, body, ctx) => billing.subscriptions.cancel(id, body.prorate, ctx));
  onSubscription('pause', 'subscription_pause', EmptyCommandBody, false, (id, _body, ctx) => billing.subscriptions.pause(id, ctx));
  onSubscription('resume', 'subscription_resume', EmptyCommandBody, false, (id, _body, ctx) => billing.subscriptions.resume(id, ctx));
  onSubscription('change-price', 'subscription_change_price', ChangePriceBody, true, (id, body, ctx) => billing.subscriptions.changePrice(id, toPrice(body.price), body.prorate, ctx));
}
