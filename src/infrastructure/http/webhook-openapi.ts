import type { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../application/webhooks/webhook-event-types.js';
import type { OpenApiHelpers } from './ledger-openapi.js';
import {
  CreateWebhookEndpointBody,
  UpdateWebhookEndpointBody,
  WebhookDeliveryListSchema,
  WebhookDeliveryViewSchema,
  WebhookEndpointListSchema,
  WebhookEndpointViewSchema,
} from './webhook-schemas.js';

/* The outbound webhooks' part of /openapi.json (README, "Webhooks"). openapi.ts owns the document. */

type JsonObject = Record<string, unknown>;

export const WEBHOOK_REQUEST_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  CreateWebhookEndpointRequest: CreateWebhookEndpointBody,
  UpdateWebhookEndpointRequest: UpdateWebhookEndpointBody,
};

export const WEBHOOK_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  WebhookEndpoint: WebhookEndpointViewSchema,
  WebhookEndpointList: WebhookEndpointListSchema,
  WebhookDelivery: WebhookDeliveryViewSchema,
  WebhookDeliveryList: WebhookDeliveryListSchema,
};

const SCOPE = 'webhooks:manage';
const MERCHANT_ONLY = 'Endpoints belong to the merchant account: a customer-scoped credential is refused (403 `forbidden`) whatever its scopes.';
const DELIVERY =
  'Every matching event is POSTed as JSON `{ id, type, createdAt, data }` (`id` stable per event, for deduplication; `data` the resource as GET returns it at that event), ' +
  'signed `Ledger-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the whole secret>` (one `v1=` per live secret during a rotation). ' +
  'A 2xx within 10 s is success; anything else is retried with exponential backoff and jitter for at least 3 days. Each endpoint gets its events in order. ' +
  `Event types: ${WEBHOOK_EVENT_TYPES.join(', ')}.`;

export function webhookPaths(h: OpenApiHelpers): JsonObject {
  const pathId = (name: string, description: string): JsonObject => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  const body = (schemaRef: string): JsonObject => ({ required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaRef}` } } } });
  const errors = (extra: JsonObject = {}): JsonObject => ({
    '400': h.problem('`validation_failed` (`errors` names each field: an unknown event type is one), malformed JSON, or an unknown query parameter.'),
    ...extra,
    '500': h.problem('Unexpected error; quote the request id.'),
    ...h.securityResponses(SCOPE),
  });
  const notFound = { '404': h.problem('`webhook_endpoint_not_found`.') };
  const refusedUrl = { '422': h.problem('`webhook_url_refused`: not https (in production), credentials in the URL, or the host resolves to a loopback, private, link-local, metadata or other non-public address.') };
  const listParams = [
    { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
    { name: 'startingAfter', in: 'query', required: false, description: 'The `nextCursor` of the previous page.', schema: { type: 'string' } },
    h.p('RequestId'),
  ];
  return {
    '/v1/webhook-endpoints': {
      post: {
        operationId: 'createWebhookEndpoint',
        summary: 'Register a webhook endpoint (the answer shows its signing secret, once)',
        ...h.secured(SCOPE, `${DELIVERY} ${MERCHANT_ONLY} No Idempotency-Key: a retried create makes a second endpoint.`),
        parameters: [h.p('RequestId')],
        requestBody: body('CreateWebhookEndpointRequest'),
        responses: { '201': h.json('The endpoint, with `secret`.', 'WebhookEndpoint', { Location: { $ref: '#/components/headers/Location' }, ...h.rateLimitHeaders }), ...errors(refusedUrl) },
      },
      get: {
        operationId: 'listWebhookEndpoints',
        summary: 'List webhook endpoints',
        ...h.secured(SCOPE, MERCHANT_ONLY),
        parameters: listParams,
        responses: { '200': h.json('A page of endpoints (no secrets).', 'WebhookEndpointList', h.rateLimitHeaders), ...errors() },
      },
    },
    '/v1/webhook-endpoints/{id}': {
      get: {
        operationId: 'getWebhookEndpoint',
        summary: 'Get a webhook endpoint',
        ...h.secured(SCOPE, MERCHANT_ONLY),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), h.p('RequestId')],
        responses: { '200': h.json('The endpoint (no secret).', 'WebhookEndpoint', h.rateLimitHeaders), ...errors(notFound) },
      },
      patch: {
        operationId: 'updateWebhookEndpoint',
        summary: 'Change a webhook endpoint\'s url, events or description, or disable / enable it',
        ...h.secured(SCOPE, `Enabling forgets past failures; deliveries pending while it was disabled are sent again in order. ${MERCHANT_ONLY}`),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), h.p('RequestId')],
        requestBody: body('UpdateWebhookEndpointRequest'),
        responses: { '200': h.json('The endpoint as changed.', 'WebhookEndpoint', h.rateLimitHeaders), ...errors({ ...notFound, ...refusedUrl }) },
      },
      delete: {
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint and its delivery log',
        ...h.secured(SCOPE, MERCHANT_ONLY),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), h.p('RequestId')],
        responses: { '200': { description: '`{ id, object: "webhook_endpoint", deleted: true }`.' }, ...errors(notFound) },
      },
    },
    '/v1/webhook-endpoints/{id}/rotate-secret': {
      post: {
        operationId: 'rotateWebhookSecret',
        summary: 'Make a new signing secret; the old one keeps signing beside it for 24 hours',
        ...h.secured(SCOPE, MERCHANT_ONLY),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), h.p('RequestId')],
        responses: { '200': h.json('The endpoint, with the new `secret` (shown once) and `secretRotation`.', 'WebhookEndpoint', h.rateLimitHeaders), ...errors(notFound) },
      },
    },
    '/v1/webhook-endpoints/{id}/deliveries': {
      get: {
        operationId: 'listWebhookDeliveries',
        summary: 'The endpoint\'s delivery log, newest first (attempts, status codes, latency, next attempt)',
        ...h.secured(SCOPE, MERCHANT_ONLY),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), ...listParams],
        responses: { '200': h.json('A page of deliveries.', 'WebhookDeliveryList', h.rateLimitHeaders), ...errors(notFound) },
      },
    },
    '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry': {
      post: {
        operationId: 'retryWebhookDelivery',
        summary: 'Send one delivery again now (whatever its status), and answer with its log',
        ...h.secured(SCOPE, `The attempt is logged like any other. A success marks a pending or failed delivery succeeded; a failure leaves a finished one as it was. ${MERCHANT_ONLY}`),
        parameters: [pathId('id', 'The endpoint id (`we_…`).'), pathId('deliveryId', 'The delivery id (`wd_…`).'), h.p('RequestId')],
        responses: {
          '200': h.json('The delivery after the attempt.', 'WebhookDelivery', h.rateLimitHeaders),
          ...errors({ '404': h.problem('`webhook_endpoint_not_found` or `webhook_delivery_not_found`.'), '409': h.problem('`webhook_delivery_in_flight`: it is being sent right now.', true) }),
        },
      },
    },
  };
}
