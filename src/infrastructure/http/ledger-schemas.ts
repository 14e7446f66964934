import { z } from 'zod';
import { CustomerIdSchema, CurrencySchema, PaymentIdSchema, PositionSchema } from './schemas.js';

/*
 * The ledger endpoints' shapes (requests validate with them, responses are ordered by them,
 * /openapi.json is generated from them), kept beside schemas.ts rather than in it.
 */

const queryInteger = (schema: z.ZodType<number, number>) =>
  z.string().regex(/^\d{1,9}$/, 'must be an integer').transform(Number).pipe(schema);

/** Stripe clients send lower case: accepted, and answered in upper case. */
export const LedgerCurrencyQuery = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 currency code, e.g. usd or USD')
  .transform((code) => code.toUpperCase())
  .pipe(CurrencySchema)
  .meta({ description: 'ISO 4217 code, either case (`usd` or `USD`). Responses use upper case.', examples: ['usd'] });

export const LedgerAccountNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/).meta({ examples: ['revenue'] });

/** A Ledger-Position (`<commit>.<prepare>`) or an ISO 8601 timestamp with its offset. */
export const AsOfSchema = z
  .union([PositionSchema, z.iso.datetime({ offset: true })], { error: 'must be a Ledger-Position (e.g. 8812.8812) or an ISO 8601 timestamp (e.g. 2026-01-31T23:59:59Z)' })
  .meta({
    description:
      'Point in time: a Ledger-Position (everything up to and including that event; the query first waits, as with minPosition, until the ledger has it) ' +
      'or an ISO 8601 timestamp (everything that occurred at or before it).',
    examples: ['8812.8812', '2026-01-31T23:59:59Z'],
  });

/** A day (`2026-01-31`, midnight UTC) or a timestamp. */
const InstantSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'must be a date (YYYY-MM-DD, UTC) or an ISO 8601 timestamp' });

export const AccountsQuery = z.strictObject({});

export const AccountBalanceQuery = z.strictObject({
  currency: LedgerCurrencyQuery.optional(),
  asOf: AsOfSchema.optional(),
  minPosition: z.string().optional(),
});

export const TrialBalanceQuery = z.strictObject({
  asOf: AsOfSchema.optional(),
  minPosition: z.string().optional(),
});

export const ListLedgerEntriesQuery = z.strictObject({
  account: LedgerAccountNameSchema.optional(),
  paymentId: PaymentIdSchema.optional(),
  from: InstantSchema.optional().meta({ description: 'Entries that occurred at or after this instant (a date is midnight UTC).' }),
  to: InstantSchema.optional().meta({ description: 'Entries that occurred before this instant (a date is midnight UTC).' }),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

const AccountKindSchema = z.enum(['asset', 'liability', 'equity', 'revenue', 'contra_revenue', 'expense']);
const NormalBalanceSchema = z.enum(['debit', 'credit']);

export const LedgerAccountSchema = z.object({
  name: LedgerAccountNameSchema,
  object: z.literal('ledger_account'),
  kind: AccountKindSchema,
  normalBalance: NormalBalanceSchema.meta({ description: 'The side on which the account grows; its balance is shown on this side.' }),
  description: z.string(),
  active: z.boolean().meta({ description: 'False while no posting rule uses the account yet (reserved for a later feature; its balance is zero).' }),
});

export const LedgerAccountListSchema = z.object({ data: z.array(LedgerAccountSchema) });

const MinorUnits = z.int().min(0).meta({ description: 'Integer minor units.' });

export const LedgerPostingSchema = z.object({
  account: LedgerAccountNameSchema,
  side: NormalBalanceSchema,
  amount: MinorUnits,
  currency: CurrencySchema,
});

export const LedgerEntrySchema = z.object({
  id: z.string().meta({ description: 'The entry\'s id: the id of the event that caused it (one entry per event).' }),
  object: z.literal('ledger_entry'),
  eventId: z.string(),
  eventType: z.string().meta({ examples: ['PaymentCaptured'] }),
  position: PositionSchema.meta({ description: 'The causing event\'s place in the log.' }),
  occurredAt: z.string(),
  description: z.string(),
  paymentId: z.string().nullable(),
  refundId: z.string().nullable(),
  customerId: CustomerIdSchema.nullable(),
  postings: z.array(LedgerPostingSchema).meta({ description: 'Debits equal credits per currency: PostgreSQL refuses to commit anything else.' }),
});

export const LedgerEntryListSchema = z.object({
  data: z.array(LedgerEntrySchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

const AsOfAnswer = z
  .string()
  .nullable()
  .meta({ description: 'The asOf asked for (a position, or the timestamp in UTC); without one, the ledger\'s checkpoint the figures include (null before its first event).' });

export const AccountBalanceSchema = z.object({
  object: z.literal('ledger_account_balance'),
  account: LedgerAccountNameSchema,
  kind: AccountKindSchema,
  normalBalance: NormalBalanceSchema,
  asOf: AsOfAnswer,
  data: z.array(
    z.object({
      currency: CurrencySchema,
      debits: MinorUnits,
      credits: MinorUnits,
      balance: z.int().meta({ description: 'On the normal side: debits − credits for a debit-normal account, credits − debits otherwise.' }),
    }),
  ),
});

export const TrialBalanceSchema = z.object({
  object: z.literal('ledger_trial_balance'),
  asOf: AsOfAnswer,
  data: z.array(z.object({ currency: CurrencySchema, debits: MinorUnits, credits: MinorUnits })).meta({ description: 'Per currency; debits = credits, always.' }),
});
