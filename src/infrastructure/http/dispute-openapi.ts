import type { z } from 'zod';
import { DisputeIdSchema, DisputeListSchema, DisputeStatusSchema, DisputeViewSchema, SubmitEvidenceBody } from './dispute-schemas.js';
import type { OpenApiHelpers } from './ledger-openapi.js';
import { CustomerIdSchema, PaymentIdSchema } from './schemas.js';

/* The disputes' part of /openapi.json (issue 10). openapi.ts owns the document and hands its helpers in. */

type JsonObject = Record<string, unknown>;

export const DISPUTE_REQUEST_SCHEMAS: Readonly<Record<string, z.ZodType>> = { SubmitDisputeEvidenceRequest: SubmitEvidenceBody };
export const DISPUTE_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = { Dispute: DisputeViewSchema, DisputeList: DisputeListSchema };

const CUSTOMER_SCOPED = 'A customer-scoped credential sees only its customer\'s disputes; another customer\'s is 404 `dispute_not_found`, as if it did not exist.';

export function disputePaths(h: OpenApiHelpers): JsonObject {
  const q = (name: string, schema: z.ZodType, description: string): JsonObject => ({ name, in: 'query', required: false, description, schema: h.inlineSchema(schema) });
  const id = { name: 'id', in: 'path', required: true, schema: h.inlineSchema(DisputeIdSchema) };
  const notFound = h.problem('`dispute_not_found`: no such dispute (including a malformed id, and another customer\'s dispute for a customer-scoped credential).');
  return {
    '/v1/disputes': {
      get: {
        operationId: 'listDisputes',
        summary: 'List disputes (chargebacks), newest first',
        ...h.secured('payments:read', `Filters combine. ${CUSTOMER_SCOPED} Without \`customerId\` its own is implied; naming another is 403 \`forbidden\`.`),
        parameters: [
          q('paymentId', PaymentIdSchema, 'Only this payment\'s disputes.'),
          q('customerId', CustomerIdSchema, 'Only this customer\'s disputes.'),
          q('status', DisputeStatusSchema, 'Only disputes in this status.'),
          h.p('Limit'),
          h.p('Cursor'),
          h.p('MinPosition'),
          h.p('RequestId'),
        ],
        responses: {
          '200': h.json('A page of disputes.', 'DisputeList', h.rateLimitHeaders),
          '400': h.problem('A query parameter is invalid (`errors` names it), including an unknown parameter or an invalid cursor.'),
          '503': h.problem('`read_model_behind`: the disputes read model did not reach minPosition in time.', true),
          ...h.securityResponses('payments:read'),
        },
      },
    },
    '/v1/disputes/{id}': {
      get: {
        operationId: 'getDispute',
        summary: 'Get a dispute',
        ...h.secured('payments:read', CUSTOMER_SCOPED),
        parameters: [id, h.p('MinPosition'), h.p('RequestId')],
        responses: {
          '200': h.json('The dispute.', 'Dispute', { ETag: { $ref: '#/components/headers/ETag' }, ...h.rateLimitHeaders }),
          '304': { description: 'Not modified (If-None-Match matched the ETag).' },
          '400': h.problem('A query parameter is invalid.'),
          '404': notFound,
          '503': h.problem('`read_model_behind`: the disputes read model did not reach minPosition in time.', true),
          ...h.securityResponses('payments:read'),
        },
      },
    },
    '/v1/disputes/{id}/evidence': {
      post: {
        operationId: 'submitDisputeEvidence',
        summary: 'Submit evidence for a dispute; the processor\'s answer is applied at once',
        ...h.secured(
          'payments:write',
          `${CUSTOMER_SCOPED} Under the simulated processor (as in Stripe's test mode) the text \`winning_evidence\` wins the dispute, \`losing_evidence\` loses it, anything else moves it to \`under_review\`. With Stripe the evidence is submitted as \`uncategorized_text\` (once per Idempotency-Key); Stripe answers \`under_review\` (\`warning_under_review\` for an inquiry) and its decision arrives later by the \`charge.dispute.closed\` webhook (in test mode \`winning_evidence\` / \`losing_evidence\` decide it).`,
        ),
        parameters: [id, h.p('IdempotencyKey'), h.p('RequestId')],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmitDisputeEvidenceRequest' } } } },
        responses: {
          '200': h.json('The dispute after the processor\'s answer.', 'Dispute', {
            'Ledger-Position': { $ref: '#/components/headers/LedgerPosition' },
            ETag: { $ref: '#/components/headers/ETag' },
            ...h.rateLimitHeaders,
          }),
          '400': h.problem('`validation_failed`, malformed JSON, an unknown query parameter, or an If-Match header (not supported).'),
          '404': notFound,
          '409': h.problem('`dispute_not_accepting_evidence` (the dispute is past `needs_response`, here or already at the processor), `dispute_inconsistent`, `concurrency_conflict` or `idempotency_key_in_use`.', true),
          '422': h.problem('`idempotency_key_reused`.'),
          '501': h.problem('`dispute_evidence_unsupported`: the payment provider cannot submit evidence for this dispute (the simulated processor, for a dispute of another processor\'s payment).'),
          ...h.securityResponses('payments:write'),
        },
      },
    },
  };
}
