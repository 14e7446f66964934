import type { z } from 'zod';
import type { OpenApiHelpers } from './ledger-openapi.js';
import { MAX_MRR_HISTORY_MONTHS, MrrHistoryQuery, MrrHistorySchema, MrrReportQuery, MrrReportSchema } from './mrr-schemas.js';

/* The MRR reports' part of /openapi.json, built with openapi.ts's helpers like the ledger's. */

type JsonObject = Record<string, unknown>;

export const MRR_RESPONSE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  MrrReport: MrrReportSchema,
  MrrHistory: MrrHistorySchema,
};

const SCOPE = 'reports:read';
const RULES =
  'MRR normalises each price to a month (a year 1/12, a week 52/12, a day 365/12, divided by intervalCount) and counts active and past_due subscriptions only ' +
  '(trialing, incomplete, paused, unpaid and ended ones add nothing); contributions are summed exactly per currency and rounded half up once, ARR is 12 × the exact sum. ' +
  'Times are each subscription\'s own clock. Test-clock subscriptions are left out unless `testClock` names one, and then only its subscriptions are reported. ' +
  'A customer-scoped credential is 403 `forbidden` (MRR sums every customer).';

function queryParameters(h: OpenApiHelpers, schema: z.ZodObject, required: readonly string[]): JsonObject[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>)
    .filter(([name]) => name !== 'minPosition')
    .map(([name, s]) => ({ name, in: 'query', required: required.includes(name), schema: h.inlineSchema(s) }));
}

export function mrrPaths(h: OpenApiHelpers): JsonObject {
  const errors = (what: string): JsonObject => ({
    '400': h.problem(`\`validation_failed\`: ${what} (each named in \`errors\`).`),
    '503': h.problem('`read_model_behind`: the subscription metrics did not reach minPosition in time.', true),
    ...h.securityResponses(SCOPE),
  });
  return {
    '/v1/reports/mrr': {
      get: {
        operationId: 'mrrReport',
        summary: 'MRR and ARR per currency at an instant, with active, trialing, past_due and churned counts',
        ...h.secured(SCOPE, RULES),
        parameters: [...queryParameters(h, MrrReportQuery, []), h.p('MinPosition'), h.p('RequestId')],
        responses: { '200': h.json('The figures, in currency order.', 'MrrReport', h.rateLimitHeaders), ...errors('asOf is not a timestamp, an unknown currency, test clock id or parameter') },
      },
    },
    '/v1/reports/mrr/history': {
      get: {
        operationId: 'mrrHistory',
        summary: 'MRR per UTC month and currency, each month as at its last instant',
        ...h.secured(SCOPE, `${RULES} At most ${MAX_MRR_HISTORY_MONTHS} months, both ends included.`),
        parameters: [...queryParameters(h, MrrHistoryQuery, ['from', 'to']), h.p('MinPosition'), h.p('RequestId')],
        responses: {
          '200': h.json('One row per month and currency, in (month, currency) order.', 'MrrHistory', h.rateLimitHeaders),
          ...errors(`a month that is not \`YYYY-MM\`, \`to\` before \`from\` or after asOf's month, more than ${MAX_MRR_HISTORY_MONTHS} months, an unknown currency, test clock id or parameter`),
        },
      },
    },
  };
}
