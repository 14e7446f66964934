import { z } from 'zod';
import { MAX_EVENT_PATTERNS } from '../../application/webhooks/event-patterns.js';
import { WEBHOOK_EVENT_TYPES } from '../../application/webhooks/webhook-event-types.js';

/** Query strings arrive as strings; an integer is digits only. */
const queryInteger = (schema: z.ZodType<number, number>) =>
  z.string().regex(/^\d{1,9}$/, 'must be an integer').transform(Number).pipe(schema);

/* Requests and answers of /v1/webhook-endpoints (README, "Webhooks"). */

const EventPatterns = z
  .array(z.string().min(1).max(100))
  .min(1)
  .max(MAX_EVENT_PATTERNS)
  .meta({ description: `Event types to receive: exact (\`payment.succeeded\`), a resource's every type (\`refund.*\`), or \`*\`. Known types: ${WEBHOOK_EVENT_TYPES.join(', ')}.` });

const Url = z.string().min(1).max(2048).meta({ description: 'https (http too outside production). Must resolve to public addresses only (no loopback, private, link-local or metadata ranges).' });
const Description = z.string().max(500).nullable();

export const CreateWebhookEndpointBody = z.strictObject({ url: Url, events: EventPatterns, description: Description.optional() });

export const UpdateWebhookEndpointBody = z
  .strictObject({
    url: Url.optional(),
    events: EventPatterns.optional(),
    description: Description.optional(),
    disabled: z.boolean().optional().meta({ description: 'true disables the endpoint; false enables it again (and forgets past failures).' }),
  })
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const ListWebhookQuery = z.strictObject({
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  startingAfter: z.string().min(1).max(100).optional(),
});

export const WebhookEndpointViewSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  status: z.enum(['enabled', 'disabled']),
  disabledReason: z.string().nullable(),
  secretRotation: z
    .object({ previousSecretExpiresAt: z.string() })
    .nullable()
    .meta({ description: 'While a rotated-out secret still signs beside the new one: until when.' }),
  createdAt: z.string(),
  updatedAt: z.string(),
  secret: z.string().optional().meta({ description: 'The signing secret (`whsec_…`): only in the answer to create and rotate-secret, never again.' }),
});

export const WebhookEndpointListSchema = z.object({ data: z.array(WebhookEndpointViewSchema), nextCursor: z.string().nullable() });

export const WebhookAttemptSchema = z.object({
  attempt: z.int(),
  at: z.string(),
  statusCode: z.int().nullable(),
  latencyMs: z.int(),
  error: z.string().nullable(),
  responseBody: z.string().nullable().meta({ description: 'The first KiB of the answer.' }),
});

export const WebhookDeliveryViewSchema = z.object({
  id: z.string(),
  object: z.literal('webhook_delivery'),
  endpointId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.int(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.int().nullable(),
  lastLatencyMs: z.int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  attemptLog: z.array(WebhookAttemptSchema),
});

export const WebhookDeliveryListSchema = z.object({ data: z.array(WebhookDeliveryViewSchema), nextCursor: z.string().nullable() });
