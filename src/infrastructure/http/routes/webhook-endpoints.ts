import type { Express, NextFunction, Request, Response } from 'express';
import type { WebhookDelivery, WebhookEndpoint, WebhookEndpointStore } from '../../../application/ports/webhooks.js';
import type { Clock } from '../../../application/ports/clock.js';
import type { EndpointActor, EndpointError, WebhookEndpoints } from '../../../application/webhooks/webhook-endpoints.js';
import { actorOf, principalOf, requireScope } from '../auth.js';
import type { HttpLimits } from '../deps.js';
import { jsonBody } from '../json-body.js';
import { HttpProblem, validationProblem } from '../problem.js';
import { sendJson } from '../respond.js';
import { route } from '../route-label.js';
import { requestIdOf } from '../request-context.js';
import { parseOrThrow } from '../validation.js';
import { CreateWebhookEndpointBody, ListWebhookQuery, UpdateWebhookEndpointBody } from '../webhook-schemas.js';
import { noQueryParameters } from './payment-commands.js';

/*
 * /v1/webhook-endpoints (README, "Webhooks"): merchants register where their events go.
 * Scope `webhooks:manage`; endpoints belong to the merchant account, so a customer-scoped
 * credential is refused whatever its scopes. Not event-sourced (configuration, with
 * secrets that must be deletable), so no ETag or Ledger-Position; and no Idempotency-Key:
 * the create answer carries a secret shown once, which the idempotency store would have
 * to keep — a retried create makes a second endpoint instead, which the merchant can delete.
 */

export interface WebhookHttpDeps {
  readonly endpoints: WebhookEndpoints;
  readonly store: Pick<WebhookEndpointStore, 'list' | 'deliveries' | 'delivery'>;
  /** Sends one delivery now; undefined when another sender holds it. */
  readonly resend: (endpointId: string, deliveryId: string) => Promise<unknown>;
  readonly clock: Clock;
}

const DEFAULT_PAGE = 20;
const ID = /^[A-Za-z0-9_]{1,64}$/;

function notCustomerScoped(_req: Request, res: Response, next: NextFunction): void {
  next(principalOf(res).customerId === null ? undefined : new HttpProblem({ code: 'forbidden', detail: 'Webhook endpoints belong to the merchant account: a customer-scoped credential cannot manage them.' }));
}

/** The audit record's actor and correlation id (the request id, as commands use). */
const byOf = (req: Request, res: Response): EndpointActor => ({ actor: actorOf(res), correlationId: requestIdOf(req) });

const endpointNotFound = (): HttpProblem => new HttpProblem({ code: 'webhook_endpoint_not_found', detail: 'No webhook endpoint has this id.' });

function idParam(req: Request, name: string, notFound: () => HttpProblem): string {
  const id = req.params[name];
  if (typeof id !== 'string' || !ID.test(id)) throw notFound();
  return id;
}

export function endpointView(e: WebhookEndpoint, now: Date, secret?: string): Record<string, unknown> {
  const rotated = e.secrets.slice(1).filter((s) => s.expiresAt !== null && s.expiresAt.getTime() > now.getTime());
  const lastExpiry = rotated.map((s) => (s.expiresAt as Date).getTime()).sort((a, b) => b - a)[0];
  return {
    id: e.id,
    object: 'webhook_endpoint',
    url: e.url,
    events: e.events,
    description: e.description,
    status: e.status,
    disabledReason: e.disabledReason,
    secretRotation: lastExpiry === undefined ? null : { previousSecretExpiresAt: new Date(lastExpiry).toISOString() },
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    ...(secret === undefined ? {} : { secret }),
  };
}

export const deliveryView = (d: WebhookDelivery): Record<string, unknown> => ({
  id: d.id,
  object: 'webhook_delivery',
  endpointId: d.endpointId,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  lastStatusCode: d.lastStatusCode,
  lastLatencyMs: d.lastLatencyMs,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
  attemptLog: d.attemptLog.map((a) => ({ ...a, at: a.at.toISOString() })),
});

function problemFor(error: EndpointError): HttpProblem {
  switch (error.code) {
    case 'not_found':
      return endpointNotFound();
    case 'invalid_url':
      return new HttpProblem({ code: 'webhook_url_refused', detail: `url ${error.message}.`, errors: [{ path: 'url', message: error.message }] });
    case 'invalid_events':
      return validationProblem([{ path: 'events', message: error.message }]);
  }
}

export function registerWebhookEndpointRoutes(app: Express, webhooks: WebhookHttpDeps, limits: HttpLimits): void {
  const manage = requireScope('webhooks:manage');
  const required = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: false });
  const optional = jsonBody({ limitBytes: limits.bodyLimitBytes, optional: true });
  const now = (): Date => webhooks.clock.now();

  route(app, 'post', '/v1/webhook-endpoints', manage, notCustomerScoped, noQueryParameters, required, async (req, res) => {
    const body = parseOrThrow(CreateWebhookEndpointBody, req.body);
    const created = await webhooks.endpoints.create(body, byOf(req, res));
    if (!created.ok) throw problemFor(created.error);
    const { endpoint, secret } = created.value;
    sendJson(res, 201, endpointView(endpoint, now(), secret), { location: `/v1/webhook-endpoints/${endpoint.id}` });
  });

  route(app, 'get', '/v1/webhook-endpoints', manage, notCustomerScoped, async (req, res) => {
    const query = parseOrThrow(ListWebhookQuery, req.query);
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await webhooks.store.list({ limit: limit + 1, startingAfter: query.startingAfter });
    const page = rows.slice(0, limit);
    sendJson(res, 200, { data: page.map((e) => endpointView(e, now())), nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null });
  });

  route(app, 'get', '/v1/webhook-endpoints/:id', manage, notCustomerScoped, noQueryParameters, async (req, res) => {
    const endpoint = await webhooks.endpoints.get(idParam(req, 'id', endpointNotFound));
    if (!endpoint) throw endpointNotFound();
    sendJson(res, 200, endpointView(endpoint, now()));
  });

  route(app, 'patch', '/v1/webhook-endpoints/:id', manage, notCustomerScoped, noQueryParameters, required, async (req, res) => {
    const id = idParam(req, 'id', endpointNotFound);
    const body = parseOrThrow(UpdateWebhookEndpointBody, req.body);
    const updated = await webhooks.endpoints.update(id, body, byOf(req, res));
    if (!updated.ok) throw problemFor(updated.error);
    sendJson(res, 200, endpointView(updated.value, now()));
  });

  route(app, 'post', '/v1/webhook-endpoints/:id/rotate-secret', manage, notCustomerScoped, noQueryParameters, optional, async (req, res) => {
    const rotated = await webhooks.endpoints.rotateSecret(idParam(req, 'id', endpointNotFound), byOf(req, res));
    if (!rotated.ok) throw problemFor(rotated.error);
    sendJson(res, 200, endpointView(rotated.value.endpoint, now(), rotated.value.secret));
  });

  route(app, 'delete', '/v1/webhook-endpoints/:id', manage, notCustomerScoped, noQueryParameters, async (req, res) => {
    const id = idParam(req, 'id', endpointNotFound);
    if (!(await webhooks.endpoints.delete(id, byOf(req, res)))) throw endpointNotFound();
    sendJson(res, 200, { id, object: 'webhook_endpoint', deleted: true });
  });

  route(app, 'get', '/v1/webhook-endpoints/:id/deliveries', manage, notCustomerScoped, async (req, res) => {
    const id = idParam(req, 'id', endpointNotFound);
    const query = parseOrThrow(ListWebhookQuery, req.query);
    if (!(await webhooks.endpoints.get(id))) throw endpointNotFound();
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await webhooks.store.deliveries({ endpointId: id, limit: limit + 1, startingAfter: query.startingAfter });
    const page = rows.slice(0, limit);
    sendJson(res, 200, { data: page.map(deliveryView), nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null });
  });

  route(app, 'post', '/v1/webhook-endpoints/:id/deliveries/:deliveryId/retry', manage, notCustomerScoped, noQueryParameters, optional, async (req, res) => {
    const id = idParam(req, 'id', endpointNotFound);
    const deliveryNotFound = (): HttpProblem => new HttpProblem({ code: 'webhook_delivery_not_found', detail: 'This endpoint has no delivery with this id.' });
    const deliveryId = idParam(req, 'deliveryId', deliveryNotFound);
    if (!(await webhooks.store.delivery(id, deliveryId))) throw deliveryNotFound();
    const sent = await webhooks.resend(id, deliveryId);
    if (sent === undefined) throw new HttpProblem({ code: 'webhook_delivery_in_flight', detail: 'The delivery is being sent right now; look at its log in a moment.', retryAfterSeconds: 10 });
    const delivery = await webhooks.store.delivery(id, deliveryId);
    if (!delivery) throw deliveryNotFound();
    sendJson(res, 200, deliveryView(delivery));
  });
}
