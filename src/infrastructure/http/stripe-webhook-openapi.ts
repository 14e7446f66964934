import type { z } from 'zod';
import type { OpenApiHelpers } from './ledger-openapi.js';
import { STRIPE_WEBHOOK_PATH, WEBHOOK_BODY_LIMIT_BYTES } from './routes/stripe-webhooks.js';
import { InboxEntryIdSchema, InboxEntrySchema, InboxEntryWithPayloadSchema, InboxListSchema, InboxStatusSchema } from './webhook-inbox-schemas.js';
import { HANDLED_STRIPE_EVENT_TYPES } from '../../application/provider-events/stripe-event-handler.js';

/* Stripe webhooks' part of /openapi.json: the endpoint Stripe calls, and the admin inbox. */

type JsonObject = Record<string, unknown>;

export const STRIPE_WEBHOOK_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  WebhookInboxEntry: InboxEntrySchema,
  WebhookInboxEntryWithPayload: InboxEntryWithPayloadSchema,
  WebhookInboxList: InboxListSchema,
};

export function stripeWebhookPaths(h: OpenApiHelpers): JsonObject {
  const idParameter = { name: 'id', in: 'path', required: true, schema: h.inlineSchema(InboxEntryIdSchema) };
  return {
    [STRIPE_WEBHOOK_PATH]: {
      post: {
        operationId: 'receiveStripeWebhook',
        summary: 'Stripe webhook endpoint: verify, record in the inbox, acknowledge; processing follows asynchronously',
        description: [
          'No bearer token: the `Stripe-Signature` header over the raw body is the credential, checked against each secret in STRIPE_WEBHOOK_SECRET',
          'with STRIPE_WEBHOOK_TOLERANCE_SECONDS of tolerance. A verified event is stored once per event id (a repeat is acknowledged and does nothing)',
          `and processed later, retried with backoff and parked as failed if it keeps failing. Acted on: ${HANDLED_STRIPE_EVENT_TYPES.join(', ')};`,
          'other types and objects Ledger never made are recorded as ignored. Failed signatures count against the address\'s allowance of failed authentications.',
        ].join(' '),
        security: [],
        parameters: [{ name: 'Stripe-Signature', in: 'header', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: `A Stripe event, at most ${WEBHOOK_BODY_LIMIT_BYTES} bytes.` } } } },
        responses: {
          '200': {
            description: 'Recorded (or already recorded: `duplicate` true).',
            content: { 'application/json': { schema: { type: 'object', properties: { received: { type: 'boolean' }, duplicate: { type: 'boolean' } }, required: ['received', 'duplicate'] } } },
          },
          '400': h.problem('`webhook_signature_invalid` (`reason`: `missing_signature`, `signature_mismatch`, `stale`): nothing is recorded; `validation_failed`: signed, but not a Stripe event.'),
          '413': h.problem(`\`payload_too_large\`: more than ${WEBHOOK_BODY_LIMIT_BYTES} bytes.`),
          '429': h.problem('`rate_limited`: too many failed signatures from this address, or deliveries over their allowance.', true),
          '503': h.problem('`webhooks_not_configured`: no STRIPE_WEBHOOK_SECRET; `service_unavailable`: the database is down (Stripe retries either way).', true),
        },
      },
    },
    '/v1/admin/webhooks/inbox': {
      get: {
        operationId: 'listWebhookInbox',
        summary: 'The webhook inbox, newest first; `status=failed` lists the parked events',
        ...h.secured('admin'),
        parameters: [{ name: 'status', in: 'query', required: false, schema: h.inlineSchema(InboxStatusSchema) }, h.p('Limit'), h.p('Cursor'), h.p('RequestId')],
        responses: {
          '200': h.json('A page of entries.', 'WebhookInboxList', h.rateLimitHeaders),
          '400': h.problem('A query parameter is invalid, including an unknown parameter or an invalid cursor.'),
          ...h.securityResponses('admin'),
        },
      },
    },
    '/v1/admin/webhooks/inbox/{id}': {
      get: {
        operationId: 'getWebhookInboxEntry',
        summary: 'One inbox entry, with the event as received',
        ...h.secured('admin'),
        parameters: [idParameter, h.p('RequestId')],
        responses: {
          '200': h.json('The entry.', 'WebhookInboxEntryWithPayload', h.rateLimitHeaders),
          '404': h.problem('`inbox_entry_not_found`.'),
          ...h.securityResponses('admin'),
        },
      },
    },
    '/v1/admin/webhooks/inbox/{id}/retry': {
      post: {
        operationId: 'retryWebhookInboxEntry',
        summary: 'Process a failed (parked) or ignored entry again, with a fresh allowance of attempts',
        ...h.secured('admin'),
        parameters: [idParameter, h.p('RequestId')],
        responses: {
          '202': h.json('Scheduled: the entry is pending and due now.', 'WebhookInboxEntry', h.rateLimitHeaders),
          '404': h.problem('`inbox_entry_not_found`.'),
          '409': h.problem('`inbox_entry_not_retryable`: the entry is pending, processing or processed (`currentStatus` says which).'),
          ...h.securityResponses('admin'),
        },
      },
    },
  };
}
