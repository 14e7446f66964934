import type { Express, NextFunction, Request, Response } from 'express';
import type { TestClockWritten } from '../../../application/subscriptions/billing-clock.js';
import { BillingNotSettled } from '../../../application/subscriptions/billing-settler.js';
import type { TestClockId } from '../../../domain/ids.js';
import { isTestClockId } from '../../../domain/ids.js';
import type { Result } from '../../../domain/result.js';
import { err, ok } from '../../../domain/result.js';
import type { TestClockError } from '../../../domain/test-clock/test-clock.js';
import { principalOf, requireScope } from '../auth.js';
import type { CommandSuccess, RenderedAnswer } from '../command-runner.js';
import { runCommandFor } from '../command-runner.js';
import type { BillingHttpDeps, HttpDeps, HttpLimits } from '../deps.js';
import { etagFor } from '../preconditions.js';
import { jsonBody } from '../json-body.js';
import type { ProblemSpec } from '../problem.js';
import { HttpProblem } from '../problem.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { AdvanceTestClockBody, CreateTestClockBody, GetBillingResourceQuery } from '../subscription-schemas.js';
import { problemForTestClockError } from '../subscription-problems.js';
import { parseOrThrow } from '../validation.js';
import { testClockWireForm } from '../wire-form.js';
import { noQueryParameters } from './payment-commands.js';
import { refuseIfMatch } from './subscription-commands.js';

/** Seconds a client waits before asking again for an advance whose billing work could not finish. */
const NOT_SETTLED_RETRY_AFTER_SECONDS = 5;

type TestClockCommandError = TestClockError | { readonly code: 'concurrency_conflict' } | { readonly code: 'billing_not_settled'; readonly reason: string };

interface TestClockAnswer extends CommandSuccess {
  readonly clock: TestClockWritten;
}

function problemFor(error: TestClockCommandError): ProblemSpec {
  if (error.code === 'billing_not_settled') {
    // The reason names internals (positions, the processor's state): the log has it, the client needs "retry".
    return {
      code: 'billing_not_settled',
      detail:
        'The work due on this test clock could not finish (the payment processor is unreachable, or the billing read model is not keeping up). ' +
        'Nothing is lost: ask for the same advance again to finish it.',
      retryAfterSeconds: NOT_SETTLED_RETRY_AFTER_SECONDS,
    };
  }
  return problemForTestClockError(error);
}

/** A malformed id cannot name a test clock: 404 without touching the store. */
function requireTestClockId(req: Request, _res: Response, next: NextFunction): void {
  const id = req.params.id;
  // Not echoed: whatever was sent is not an id, and a problem is no place to reflect input.
  next(typeof id === 'string' && isTestClockId(id) ? undefined : new HttpProblem({ code: 'test_clock_not_found', detail: 'No test clock has this id.' }));
}

/** Test clocks belong to no customer: a customer-scoped credential is refused whatever its scopes. */
function notCustomerScoped(_req: Request, res: Response, next: NextFunction): void {
  next(principalOf(res).customerId === null ? undefined : new HttpProblem({ code: 'forbidden', detail: 'Test clocks are an operator\'s tool: a customer-scoped credential cannot use them.' }));
}

const render = (created: boolean) => (value: TestClockAnswer): RenderedAnswer => ({
  body: testClockWireForm(value.clock, value.clock.revision),
  revision: value.clock.revision,
  location: created ? `/v1/test-clocks/${value.clock.testClockId}` : undefined,
});

const answer = (result: Result<TestClockWritten, TestClockError | { readonly code: 'concurrency_conflict' }>): Result<TestClockAnswer, TestClockCommandError> =>
  result.ok ? ok({ clock: result.value, position: result.value.position, replayed: false }) : result;

/**
 * Test clocks (docs/architecture.md, "Subscriptions"): creating and advancing need
 * subscriptions:write, reading subscriptions:read, never on a customer-scoped credential.
 *
 * An advance answers when everything that fell due on the clock has run (renewals,
 * invoices, charges, dunning retries, expiries, in time order), not 202 with work left:
 * a test that advances then asserts needs that point, and the work is the billing
 * process's own, bounded per advance. If it cannot finish (the processor unreachable),
 * the answer is 503 `billing_not_settled` and asking again for the same target finishes it.
 */
export function registerTestClockRoutes(app: Express, deps: HttpDeps, billing: BillingHttpDeps, limits: HttpLimits): void {
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  const write = requireScope('subscriptions:write');

  route(app, 'post', '/v1/test-clocks', write, notCustomerScoped, noQueryParameters, refuseIfMatch('creating a test clock'), required, async (req, res) => {
    const rawBody: unknown = req.body;
    const body = parseOrThrow(CreateTestClockBody, rawBody);
    await runCommandFor<TestClockAnswer, TestClockCommandError>(deps, req, res, {
      name: 'test_clock_create',
      successStatus: 201,
      rawBody,
      execute: async (ctx) => answer(await billing.testClocks.create(body.frozenTime, body.name ?? null, ctx)),
      render: render(true),
      problem: problemFor,
    });
  });

  route(app, 'get', '/v1/test-clocks/:id', requireScope('subscriptions:read'), notCustomerScoped, requireTestClockId, async (req, res) => {
    // Read from the clock's own stream, so it is always current: minPosition is accepted and has nothing to wait for.
    parseOrThrow(GetBillingResourceQuery, req.query);
    const id = String(req.params.id);
    const view = await billing.testClocks.get(id);
    if (!view) throw new HttpProblem({ code: 'test_clock_not_found', detail: `No test clock has the id ${id}.` });
    sendJson(res, 200, testClockWireForm(view.state, view.revision, view.advances), { etag: etagFor(view.revision) });
  });

  route(
    app,
    'post',
    '/v1/test-clocks/:id/advance',
    write,
    notCustomerScoped,
    noQueryParameters,
    requireTestClockId,
    refuseIfMatch('advancing a test clock'),
    required,
    async (req, res) => {
      const rawBody: unknown = req.body;
      const body = parseOrThrow(AdvanceTestClockBody, rawBody);
      await runCommandFor<TestClockAnswer, TestClockCommandError>(deps, req, res, {
        name: 'test_clock_advance',
        successStatus: 200,
        rawBody,
        execute: async (ctx) => {
          try {
            return answer(await billing.testClocks.advance(String(req.params.id) as TestClockId, body.frozenTime, ctx));
          } catch (error) {
            if (error instanceof BillingNotSettled) {
              deps.logger.warn({ err: error, testClock: req.params.id }, 'test clock advance could not settle');
              return err({ code: 'billing_not_settled', reason: error.message });
            }
            throw error;
          }
        },
        render: render(false),
        problem: problemFor,
      });
    },
  );
}
