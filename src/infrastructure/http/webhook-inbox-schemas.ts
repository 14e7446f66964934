import { z } from 'zod';
import { INBOX_STATUSES } from '../../application/ports/provider-inbox.js';
import { HANDLED_STRIPE_EVENT_TYPES } from '../../application/provider-events/stripe-event-handler.js';

/* The webhook inbox's shapes (admin routes validate with them; /openapi.json is generated from them). */

const queryInteger = (schema: z.ZodType<number, number>) => z.string().regex(/^\d{1,9}$/, 'must be an integer').transform(Number).pipe(schema);

export const InboxStatusSchema = z.enum(INBOX_STATUSES as [string, ...string[]]).meta({
  description: '`pending` (due), `processing` (claimed), `processed`, `ignored` (recorded, nothing of ours to change: an unknown type or an object Ledger never made), `failed` (parked after its attempts, or a contradiction: retry it with POST …/retry).',
});

export const InboxEntryIdSchema = z.string().regex(/^[1-9]\d{0,17}$/).meta({ description: 'The inbox entry\'s id.', examples: ['42'] });

export const ListInboxQuery = z.strictObject({
  status: InboxStatusSchema.optional(),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
});

export const GetInboxEntryQuery = z.strictObject({});

const Timestamp = z.string().meta({ description: 'ISO 8601, UTC.' });

export const InboxEntrySchema = z.object({
  id: InboxEntryIdSchema,
  object: z.literal('webhook_event'),
  provider: z.string().meta({ examples: ['stripe'] }),
  eventId: z.string().meta({ description: 'The processor\'s event id: unique, a repeat delivery is recognised by it.', examples: ['evt_1Q…'] }),
  type: z.string().meta({ description: `The event type. Acted on: ${HANDLED_STRIPE_EVENT_TYPES.join(', ')}; any other is recorded as ignored.`, examples: ['payment_intent.succeeded'] }),
  objectId: z.string().nullable().meta({ description: 'The id of the processor\'s object the event is about.', examples: ['pi_3Q…'] }),
  createdAt: Timestamp.meta({ description: 'When the processor says the event happened.' }),
  receivedAt: Timestamp,
  status: InboxStatusSchema,
  attempts: z.int().min(0),
  nextAttemptAt: Timestamp.nullable().meta({ description: 'When a pending entry is due, or a claimed one\'s claim lapses; null once done.' }),
  lastError: z.string().nullable(),
  outcome: z.string().nullable().meta({ description: 'What processing came to, in words.', examples: ['payment pay_01J…: recorded PaymentCaptured 3000 (released 2000) from pi_3Q… (succeeded)'] }),
  processedAt: Timestamp.nullable(),
});

export const InboxEntryWithPayloadSchema = InboxEntrySchema.extend({
  payload: z.unknown().meta({ description: 'The event exactly as the processor sent it.' }),
});

export const InboxListSchema = z.object({
  data: z.array(InboxEntrySchema),
  nextCursor: z.string().nullable(),
});
