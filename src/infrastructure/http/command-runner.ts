import type { Request, Response } from 'express';
import type { CommandContext, ProspectivePaymentAnswer } from '../../application/command-context.js';
import type { OutcomeRecord } from '../../application/ports/event-store.js';
import type { Position } from '../../application/ports/position.js';
import type { PaymentCommandResult, PaymentCommandSuccess } from '../../application/payments/payment-command-handlers.js';
import type { PaymentCommandError } from '../../application/payments/payment-command-errors.js';
import { formatPosition } from '../../application/ports/position.js';
import type { RefundCommandError, RefundCommandResult, RefundCommandSuccess } from '../../application/ports/refund-commands.js';
import type { Result } from '../../domain/result.js';
import { actorOf, customerScopeOf } from './auth.js';
import { isRetryableOutcome, problemForCommandError } from './command-error-problems.js';
import type { IdempotencyScope } from '../../application/ports/idempotency-store.js';
import { isDatabaseUnavailable } from '../postgres/pool.js';
import type { CommandName, HttpDeps } from './deps.js';
import { etagFor, parseIdempotencyKey, parseIfMatch } from './preconditions.js';
import type { ProblemSpec } from './problem.js';
import { HttpProblem, validationProblem } from './problem.js';
import { contextOf } from './request-context.js';
import { paymentWireForm, refundWireForm } from './wire-form.js';
import { requestFingerprint } from './request-fingerprint.js';
import type { RawResponse } from './respond.js';
import { jsonResponse, problemResponse, send } from './respond.js';

export type { CommandName } from './deps.js';

export const LEDGER_POSITION_HEADER = 'Ledger-Position';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** What every command handler's success tells the runner, whatever the resource. */
export interface CommandSuccess {
  readonly position: Position | undefined;
  /** True when this call wrote nothing because an earlier one with the same Idempotency-Key did. */
  readonly replayed: boolean;
  /** True when the idempotency record of this answer was written with the events. */
  readonly outcomeRecorded?: boolean;
}

/** A success as the wire shows it: the body, the revision the ETag names, and for a create, where it lives. */
export interface RenderedAnswer {
  readonly body: unknown;
  readonly revision: bigint;
  readonly location?: string | undefined;
}

/**
 * One command of any resource, for `runCommandFor`: how to run it, how to show its success,
 * and which problem each of its errors is.
 */
export interface ResourceCommandSpec<V extends CommandSuccess, E extends { readonly code: string }> {
  readonly name: CommandName;
  readonly successStatus: 200 | 201;
  /** The parsed JSON body as the client sent it (before defaults): what the key is bound to. */
  readonly rawBody: unknown;
  readonly execute: (ctx: CommandContext) => Promise<Result<V, E>>;
  readonly render: (value: V) => RenderedAnswer;
  readonly problem: (error: E) => ProblemSpec;
  /** Payment commands only: renders the answer the event store records with the events (CommandContext `recordPaymentAnswer`). */
  readonly renderProspective?: ((answer: ProspectivePaymentAnswer) => RenderedAnswer) | undefined;
}

/** A payment or refund command (the original form, kept for their routes). */
export interface CommandSpec {
  readonly name: CommandName;
  readonly successStatus: 200 | 201;
  /** The parsed JSON body as the client sent it (before defaults): what the key is bound to. */
  readonly rawBody: unknown;
  readonly execute: (ctx: CommandContext) => Promise<PaymentCommandResult | RefundCommandResult>;
}

interface Outcome {
  readonly response: RawResponse;
  /** Error code, or undefined on success: decides whether the response may be kept. */
  readonly errorCode: string | undefined;
  readonly replayedByHandler: boolean;
  /** The idempotency record of this response was written with the command's events: nothing left to complete. */
  readonly recorded: boolean;
}

const POSITION_HEADER = LEDGER_POSITION_HEADER.toLowerCase();

/**
 * A command's success response. Without `position` it lacks only the Ledger-Position
 * header: the form an idempotency record takes when the event store writes it with the
 * events and adds the position itself.
 */
function successResponse(status: 200 | 201, answer: RenderedAnswer, position: Position | undefined): RawResponse {
  const headers: Record<string, string> = {
    etag: etagFor(answer.revision),
    ...(position === undefined ? {} : { [POSITION_HEADER]: formatPosition(position) }),
    ...(answer.location === undefined ? {} : { location: answer.location }),
  };
  return jsonResponse(status, answer.body, headers);
}

/** A payment command answers the payment; a refund command the refund (its ETag is the refund stream's revision). */
function renderPaymentOrRefund(spec: CommandSpec, answer: ProspectivePaymentAnswer | RefundCommandSuccess | PaymentCommandSuccess): RenderedAnswer {
  const created = spec.name === 'create' || spec.name === 'refund';
  if ('payment' in answer) return { body: paymentWireForm(answer.payment), revision: answer.revision, location: created ? `/v1/payments/${answer.payment.id}` : undefined };
  return { body: refundWireForm(answer.refund), revision: answer.revision, location: created ? `/v1/refunds/${answer.refund.id}` : undefined };
}

/**
 * `stored` is the answer the event store recorded with the events, when it did: then that
 * very response is sent (with the position the store added to its record), not a second
 * rendering of it.
 */
function toOutcome<V extends CommandSuccess, E extends { readonly code: string }>(
  req: Request,
  spec: ResourceCommandSpec<V, E>,
  result: Result<V, E>,
  stored: RawResponse | undefined,
): Outcome {
  if (!result.ok) {
    return { response: problemResponse(req, spec.problem(result.error)), errorCode: result.error.code, replayedByHandler: false, recorded: false };
  }
  const { position, replayed } = result.value;
  if (result.value.outcomeRecorded === true && stored !== undefined && position !== undefined) {
    const response = { ...stored, headers: { ...stored.headers, [POSITION_HEADER]: formatPosition(position) } };
    return { response, errorCode: undefined, replayedByHandler: replayed, recorded: true };
  }
  return { response: successResponse(spec.successStatus, spec.render(result.value), position), errorCode: undefined, replayedByHandler: replayed, recorded: false };
}

/** Runs one payment or refund command (see runCommandFor). */
export function runCommand(deps: HttpDeps, req: Request, res: Response, spec: CommandSpec): Promise<void> {
  const render = (answer: ProspectivePaymentAnswer | RefundCommandSuccess | PaymentCommandSuccess): RenderedAnswer => renderPaymentOrRefund(spec, answer);
  return runCommandFor<PaymentCommandSuccess | RefundCommandSuccess, PaymentCommandError | RefundCommandError>(deps, req, res, {
    ...spec,
    render,
    renderProspective: render,
    problem: problemForCommandError,
  });
}

/**
 * Runs one command for an HTTP request: the preconditions (If-Match), the
 * Idempotency-Key protocol around it, and the response. With a key, the first response
 * to reach a final outcome is stored before it is sent, so a client retrying the moment
 * it hears back gets those same bytes; 5xx outcomes, lost races and outcomes the store
 * failed to record release the key instead, so the retry runs the command again (with the
 * same derived ids, which lets the handler recognise a write that did happen). While the
 * command runs, its short lease is renewed; if this process dies, the key is free a lease
 * length later.
 */
export async function runCommandFor<V extends CommandSuccess, E extends { readonly code: string }>(
  deps: HttpDeps,
  req: Request,
  res: Response,
  spec: ResourceCommandSpec<V, E>,
): Promise<void> {
  const { requestId } = contextOf(req);
  const ifMatchHeader = req.get('if-match');
  const ifMatch = parseIfMatch(ifMatchHeader);
  if (!ifMatch.ok) throw validationProblem([{ path: 'If-Match', message: ifMatch.error }], `If-Match ${ifMatch.error}.`);
  const key = parseIdempotencyKey(req.get('idempotency-key'));
  if (!key.ok) throw validationProblem([{ path: 'Idempotency-Key', message: key.error }], `Idempotency-Key ${key.error}.`);

  // The authenticated principal acts: it is recorded in the events and scopes the
  // idempotency records; a customer-scoped one may touch only its customer's payments.
  const actor = actorOf(res);
  const customerScope = customerScopeOf(res);
  const baseContext: CommandContext = {
    correlationId: requestId,
    actor,
    customerScope,
    expectedRevision: ifMatch.value,
  };

  const execute = async (ctx: CommandContext, stored?: () => RawResponse | undefined): Promise<Outcome> => {
    try {
      const result = await spec.execute(ctx);
      const outcome = toOutcome(req, spec, result, stored?.());
      deps.metrics.countCommand(spec.name, outcome.errorCode ?? (outcome.replayedByHandler ? 'replayed' : 'success'));
      if (outcome.response.status >= 500) {
        // The client sees only "retry"; the operator needs the cause, e.g. the provider's own words.
        const error = result.ok ? undefined : result.error;
        deps.logger.warn({ requestId, command: spec.name, code: outcome.errorCode, error }, 'command failed');
      }
      return outcome;
    } catch (error) {
      deps.metrics.countCommand(spec.name, 'exception');
      throw error;
    }
  };
  const replayHeader = (outcome: Outcome): Record<string, string> => (outcome.replayedByHandler ? { [IDEMPOTENT_REPLAYED_HEADER]: 'true' } : {});

  if (key.value === undefined) {
    const outcome = await execute(baseContext);
    send(res, outcome.response, replayHeader(outcome));
    return;
  }

  const scope: IdempotencyScope = { actor, key: key.value };
  const hash = requestFingerprint({ method: req.method, path: req.baseUrl + req.path, ifMatch: ifMatchHeader, body: spec.rawBody, customerScope });
  const begun = await deps.idempotency.begin(scope, hash);
  switch (begun.kind) {
    case 'replay':
      deps.metrics.countIdempotentReplay(spec.name);
      send(res, begun.response, { [IDEMPOTENT_REPLAYED_HEADER]: 'true' });
      return;
    case 'in_flight':
      throw new HttpProblem({
        code: 'idempotency_key_in_use',
        detail: 'Another request with this Idempotency-Key has not finished; retry after it has.',
        retryAfterSeconds: Math.max(1, Math.ceil(begun.leaseLeftMs / 1000)),
      });
    case 'contended':
      throw new HttpProblem({
        code: 'idempotency_key_in_use',
        detail: 'The record of this Idempotency-Key changed while it was being claimed; retry.',
        retryAfterSeconds: 1,
      });
    case 'mismatch':
      throw new HttpProblem({
        code: 'idempotency_key_reused',
        detail: 'This Idempotency-Key was first used with a different request (method, path, If-Match or body). Use a new key.',
        errors: [{ path: 'Idempotency-Key', message: 'was used with a different request' }],
      });
    case 'started':
      break;
  }

  // A lost store must not log a line per request: the pool reports the outage once, and the
  // key frees itself when the lease (no longer renewed) runs out.
  const logStoreFailure = (error: unknown, message: string): void => {
    if (!isDatabaseUnavailable(error)) deps.logger.error({ requestId, err: error }, message);
  };
  const lease = holdLease(deps.idempotency, scope, begun.lease);
  try {
    let outcome: Outcome;
    try {
      let prospective: RawResponse | undefined;
      const renderProspective = spec.renderProspective;
      const recordPaymentAnswer =
        renderProspective &&
        ((answer: ProspectivePaymentAnswer): OutcomeRecord => {
          prospective = successResponse(spec.successStatus, renderProspective(answer), undefined);
          return { scope, lease: begun.lease, response: prospective, positionHeader: POSITION_HEADER };
        });
      outcome = await execute(
        {
          ...baseContext,
          idempotency: { key: key.value, firstSeenAt: begun.firstSeenAt, firstAttempt: begun.firstAttempt, ...(recordPaymentAnswer ? { recordPaymentAnswer } : {}) },
        },
        () => prospective,
      );
    } catch (error) {
      await deps.idempotency.release(scope, begun.lease).catch((releaseError: unknown) => logStoreFailure(releaseError, 'could not release idempotency key'));
      throw error;
    }
    try {
      if (isRetryableOutcome(outcome.response.status, outcome.errorCode)) await deps.idempotency.release(scope, begun.lease);
      else if (!outcome.recorded) await deps.idempotency.complete(scope, begun.lease, outcome.response);
    } catch (error) {
      // The outcome stands whatever the store says. Giving the key back lets a retry run the
      // command again at once, and the handler recognises its own write by the derived ids;
      // if even that fails, the lease (no longer renewed) lapses within its length.
      logStoreFailure(error, 'could not record idempotency outcome');
      await deps.idempotency.release(scope, begun.lease).catch((releaseError: unknown) => logStoreFailure(releaseError, 'could not release idempotency key'));
    }
    send(res, outcome.response, replayHeader(outcome));
  } finally {
    lease.stop();
  }
}

/*
 * Bounds how long one request can keep its key by renewing: a command stuck this long has
 * lost its client anyway (the request timeout answered long before), and its key must not
 * stay locked for ever.
 */
const MAX_LEASE_HOLD_MS = 120_000;

/**
 * Keeps a started key's lease alive while this request runs, from a timer the request owns
 * (stopped in its `finally`), so the lease itself can be short: a holder that dies stops
 * renewing and the key is free a lease length later. A request that finishes before the
 * first renewal costs no statement more.
 */
function holdLease(store: HttpDeps['idempotency'], scope: IdempotencyScope, lease: string): { stop(): void } {
  const maxRenewals = Math.ceil(MAX_LEASE_HOLD_MS / store.renewEveryMs);
  let renewals = 0;
  let renewing = false;
  const timer = setInterval(() => {
    // One renewal at a time: a hanging one is bounded by the pool's query timeout.
    if (renewing) return;
    renewals++;
    if (renewals > maxRenewals) {
      clearInterval(timer);
      return;
    }
    renewing = true;
    store.renew(scope, lease).then(
      (held) => {
        renewing = false;
        // Lost to a retry that took over: nothing left to keep; our complete() will be a no-op.
        if (!held) clearInterval(timer);
      },
      () => {
        // Unreachable store: try again next tick; the lease lapses if it stays away.
        renewing = false;
      },
    );
  }, store.renewEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
