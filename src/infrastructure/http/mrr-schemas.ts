import { z } from 'zod';
import { isTestClockId } from '../../domain/ids.js';
import { parseMonth } from '../../application/reports/mrr-months.js';
import { CurrencySchema } from './schemas.js';

/*
 * The MRR reports' shapes (requests validate with them, /openapi.json is generated from
 * them), kept beside schemas.ts rather than in it.
 */

/** Longest MRR history: ten years of months (the read model is asked for one instant per month). */
export const MAX_MRR_HISTORY_MONTHS = 120;

const AsOfSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-03-31T23:59:59Z' })
  .meta({ description: 'The instant the figures are for (default: now). For a test clock, pass its frozen time.', examples: ['2026-03-31T23:59:59Z'] });

const MrrCurrencySchema = CurrencySchema.optional().meta({
  description: 'Only this currency (then a row for it even when every figure is 0). ISO 4217, upper or lower case (`usd` and `USD` alike).',
  examples: ['usd'],
});

const TestClockQuery = z
  .string()
  .refine(isTestClockId, 'must be a test clock id, e.g. clock_01J…')
  .optional()
  .meta({ description: 'Report only the subscriptions on this test clock (without it, test-clock subscriptions are left out).' });

const MonthSchema = z
  .string()
  // abort: text that is not YYYY-MM gets one message, not two.
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: 'must be a month written YYYY-MM', abort: true })
  .refine((text) => parseMonth(text) !== undefined, 'must be a month from 0001-01 on')
  .meta({ description: 'A UTC calendar month, `YYYY-MM`, included.', examples: ['2026-01'] });

export const MrrReportQuery = z.strictObject({
  asOf: AsOfSchema.optional(),
  currency: MrrCurrencySchema,
  testClock: TestClockQuery,
  minPosition: z.string().optional(),
});

export const MrrHistoryQuery = z.strictObject({
  from: MonthSchema,
  to: MonthSchema,
  asOf: AsOfSchema.optional().meta({ description: 'The latest instant reported (default: now): the month containing it is read at it, and `to` may not be after that month.' }),
  currency: MrrCurrencySchema,
  testClock: TestClockQuery,
  minPosition: z.string().optional(),
});

const Minor = z.int().min(0);
const Count = z.int().min(0);

const mrrFields = {
  currency: z.string().meta({ description: 'ISO 4217, upper case.', examples: ['USD'] }),
  mrr: Minor.meta({ description: 'Monthly recurring revenue in minor units: each active or past_due subscription\'s price × periods per month, summed exactly, rounded half up once.' }),
  arr: Minor.meta({ description: '12 × the exact MRR sum, rounded half up once (so not always 12 × mrr).' }),
  active: Count.meta({ description: 'Subscriptions active at the instant.' }),
  trialing: Count.meta({ description: 'Subscriptions trialing at the instant (they add nothing to MRR).' }),
  pastDue: Count.meta({ description: 'Subscriptions past_due at the instant (they count in MRR).' }),
  churnedThisMonth: Count.meta({ description: 'Subscriptions canceled from active or past_due in the UTC month of the instant, up to it.' }),
};

export const MrrRowSchema = z.object(mrrFields);

export const MrrReportSchema = z.object({
  asOf: z.string().meta({ description: 'The instant reported, UTC.', examples: ['2026-03-31T23:59:59.000Z'] }),
  data: z.array(MrrRowSchema).meta({ description: 'In currency order; without `currency`, currencies with nothing to show have no row.' }),
});

export const MrrHistoryRowSchema = z.object({
  month: z.string().meta({ description: '`YYYY-MM`, UTC.', examples: ['2026-03'] }),
  at: z.string().meta({ description: 'The instant the month was read at: its last millisecond, or asOf in asOf\'s month.', examples: ['2026-03-31T23:59:59.999Z'] }),
  ...mrrFields,
});

export const MrrHistorySchema = z.object({
  from: z.string(),
  to: z.string(),
  asOf: z.string().meta({ description: 'The latest instant reported, UTC.' }),
  data: z.array(MrrHistoryRowSchema).meta({ description: 'In (month, currency) order.' }),
});
