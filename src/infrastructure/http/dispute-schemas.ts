import { z } from 'zod';
import { DISPUTE_ID_PREFIX } from '../../domain/ids.js';
import { DISPUTE_STATUSES } from '../../domain/dispute/events.js';
import type { DisputeStatus } from '../../domain/dispute/events.js';
import { CustomerIdSchema, PaymentIdSchema } from './schemas.js';

/* Disputes (issue 10): the queries' and the evidence command's schemas; /openapi.json comes from them. */

const queryInteger = z
  .string()
  .regex(/^[0-9]{1,4}$/, 'must be an integer')
  .transform(Number)
  .pipe(z.int().min(1).max(100));

export const DisputeIdSchema = z
  .string()
  .regex(new RegExp(`^${DISPUTE_ID_PREFIX}[0-9A-HJKMNP-TV-Z]{26}$`))
  .meta({ description: 'Dispute id: `dp_` followed by 26 Crockford base32 characters, derived from the processor\'s dispute id.', examples: ['dp_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'] });

export const DisputeStatusSchema = z.enum(DISPUTE_STATUSES as [DisputeStatus, ...DisputeStatus[]]).meta({
  description:
    'Stripe\'s statuses. `warning_*` is an inquiry (no money withheld); `needs_response` and `under_review` withhold the amount; ' +
    '`won` (reinstated), `lost` (charged back) and `warning_closed` are final.',
});

export const GetDisputeQuery = z.strictObject({ minPosition: z.string().optional() });

export const ListDisputesQuery = z.strictObject({
  paymentId: PaymentIdSchema.optional(),
  customerId: CustomerIdSchema.optional(),
  status: DisputeStatusSchema.optional(),
  limit: queryInteger.optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

export const MAX_EVIDENCE_TEXT_LENGTH = 20_000;

export const SubmitEvidenceBody = z.strictObject({
  text: z.string().min(1).max(MAX_EVIDENCE_TEXT_LENGTH).meta({
    description:
      'The evidence, as text. Under the simulated processor, as in Stripe\'s test mode: `winning_evidence` wins the dispute, ' +
      '`losing_evidence` loses it, anything else leaves it `under_review`.',
    examples: ['winning_evidence'],
  }),
});

export const DisputeViewSchema = z.object({
  id: DisputeIdSchema,
  object: z.literal('dispute'),
  paymentId: PaymentIdSchema,
  customerId: CustomerIdSchema,
  amount: z.int().meta({ description: 'The disputed amount, in minor units of the payment\'s currency.' }),
  currency: z.string(),
  status: DisputeStatusSchema,
  reason: z.string().meta({ description: 'The card network\'s reason, as Stripe names it.', examples: ['fraudulent'] }),
  feeAmount: z.int().meta({ description: 'What the processor charged for the dispute, net of any fee given back, in minor units.' }),
  evidenceDueBy: z.string().nullable(),
  openedAt: z.string().meta({ description: 'When the processor says the dispute was opened.' }),
  revision: z.string().meta({ description: 'Stream revision: the value of the ETag.' }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const DisputeListSchema = z.object({
  data: z.array(DisputeViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});
