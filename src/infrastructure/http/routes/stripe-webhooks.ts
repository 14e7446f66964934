import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { clientKeyOf, rateLimitedProblem } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { noStore } from '../hardening.js';
import { HttpProblem } from '../problem.js';
import { setRateLimitHeaders } from '../rate-limit.js';
import { contextOf } from '../request-context.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';

/*
 * POST /v1/webhooks/stripe: Stripe's events, acknowledged fast and processed later
 * (docs/architecture.md, "Stripe webhooks"). No bearer token: the Stripe-Signature over the
 * raw body is the credential, so this route is registered before `authenticate` and reads
 * the body itself, as bytes (a JSON parser before it would make the signature
 * unverifiable). The acknowledgement is the signature check plus one INSERT into the inbox
 * (a repeated event id inserts nothing); a 2xx therefore means "recorded, will be
 * processed", and anything else makes Stripe retry, so nothing is lost while we are down.
 *
 * Limits: the body is at most WEBHOOK_BODY_LIMIT_BYTES; a request that fails verification
 * counts against its address's allowance of failed authentications (the same one a wrong
 * bearer token draws on), and a spent allowance is a 429 before the body is read. Verified
 * deliveries draw on one shared allowance, `stripe-webhook`, like any credential's.
 */

export const STRIPE_WEBHOOK_PATH = '/v1/webhooks/stripe';

/** Stripe's events are a few KB; the largest (invoices with many lines) stay far below this. */
export const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

/** The allowance verified deliveries draw on (RateLimiter's credential bucket). */
export const STRIPE_WEBHOOK_ACTOR = 'stripe-webhook';

const rawBody = express.raw({ limit: WEBHOOK_BODY_LIMIT_BYTES, type: () => true });

export function registerStripeWebhookRoute(app: Express, deps: HttpDeps): void {
  const webhooks = deps.stripeWebhooks;

  const notConfigured = (_req: Request, _res: Response, next: NextFunction): void => {
    if (webhooks?.verifier) {
      next();
      return;
    }
    next(new HttpProblem({
      code: 'webhooks_not_configured',
      detail: 'This service has no STRIPE_WEBHOOK_SECRET: it cannot verify Stripe events, so it accepts none. Stripe retries until it is configured.',
      retryAfterSeconds: 60,
    }));
  };

  /** A spent allowance of failed verifications is refused before the body is read (so is a guess made while limited). */
  const addressGuard = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const state = await deps.rateLimiter.peek('unauthenticated', clientKeyOf(req.ip ?? req.socket.remoteAddress));
    if (!state.allowed) {
      setRateLimitHeaders(res, state);
      deps.metrics.countRateLimitRefusal('unauthenticated');
      throw rateLimitedProblem(state, 'Too many requests with invalid webhook signatures from this address; retry after Retry-After seconds.');
    }
    next();
  };

  const readBody = (req: Request, res: Response, next: NextFunction): void => {
    rawBody(req, res, (error?: unknown) => {
      if (error === undefined) {
        next();
        return;
      }
      const type = (error as { type?: unknown }).type;
      next(type === 'entity.too.large'
        ? new HttpProblem({ code: 'payload_too_large', detail: `A webhook body must be at most ${WEBHOOK_BODY_LIMIT_BYTES} bytes.` })
        : error);
    });
  };

  route(app, 'post', STRIPE_WEBHOOK_PATH, noStore, notConfigured, addressGuard, readBody, async (req, res) => {
    const { verifier, inbox, wake } = webhooks as NonNullable<typeof webhooks>;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = (verifier as NonNullable<typeof verifier>).verify(body, req.get('stripe-signature'));
    if (!verified.ok) {
      contextOf(req).authFailure = verified.reason;
      const failures = await deps.rateLimiter.consume('unauthenticated', clientKeyOf(req.ip ?? req.socket.remoteAddress));
      setRateLimitHeaders(res, failures);
      if (!failures.allowed) {
        deps.metrics.countRateLimitRefusal('unauthenticated');
        throw rateLimitedProblem(failures, 'Too many requests with invalid webhook signatures from this address; retry after Retry-After seconds.');
      }
      if (verified.reason === 'not_an_event') throw new HttpProblem({ code: 'validation_failed', detail: verified.message });
      throw new HttpProblem({ code: 'webhook_signature_invalid', detail: verified.message, extensions: { reason: verified.reason } });
    }
    const allowance = await deps.rateLimiter.consume('credential', STRIPE_WEBHOOK_ACTOR);
    setRateLimitHeaders(res, allowance);
    if (!allowance.allowed) {
      deps.metrics.countRateLimitRefusal('credential');
      throw rateLimitedProblem(allowance, 'Webhook deliveries have used up their allowance; Stripe retries later.');
    }
    const { event, json } = verified;
    const { duplicate } = await inbox.record({
      provider: 'stripe',
      eventId: event.id,
      type: event.type,
      objectId: event.objectId,
      providerCreatedAt: new Date(event.created * 1000),
      payloadJson: json,
    });
    if (!duplicate) wake();
    sendJson(res, 200, { received: true, duplicate });
  });
}
