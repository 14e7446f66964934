import { z } from 'zod';
import { BILLING_INTERVALS, MAX_INTERVAL_COUNT } from '../../domain/billing/recurrence.js';
import type { BillingInterval } from '../../domain/billing/recurrence.js';
import { INVOICE_ID_PREFIX, PAYMENT_ID_PREFIX, SUBSCRIPTION_ID_PREFIX, TEST_CLOCK_ID_PREFIX } from '../../domain/ids.js';
import { MAX_TRIAL_DAYS } from '../../domain/subscription/decider.js';
import { MAX_ADVANCE_MS } from '../../domain/test-clock/test-clock.js';
import { AmountSchema, CurrencySchema, CustomerIdSchema, MetadataSchema, PaymentMethodIdSchema, ProviderCustomerIdSchema } from './schemas.js';

/*
 * The subscription, invoice and test-clock endpoints' shapes (docs/architecture.md,
 * "Subscriptions"): requests validate with them, responses are ordered by them, and
 * /openapi.json is generated from them. Kept beside schemas.ts rather than in it.
 */

const queryInteger = (schema: z.ZodType<number, number>) =>
  z.string().regex(/^\d{1,9}$/, 'must be an integer').transform(Number).pipe(schema);

const idSchema = (prefix: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}[0-9A-HJKMNP-TV-Z]{26}$`))
    .meta({ description: `${what} id: \`${prefix}\` followed by 26 Crockford base32 characters (time-ordered).`, examples: [`${prefix}01JD3Q4V5W6X7Y8Z9A0B1C2D3E`] });

export const SubscriptionIdSchema = idSchema(SUBSCRIPTION_ID_PREFIX, 'Subscription');
export const InvoiceIdSchema = idSchema(INVOICE_ID_PREFIX, 'Invoice');
export const TestClockIdSchema = idSchema(TEST_CLOCK_ID_PREFIX, 'Test clock');

export const SubscriptionStatusSchema = z.enum(['trialing', 'active', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused']);
export const InvoiceStatusSchema = z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']);
export const BillingIntervalSchema = z.enum(BILLING_INTERVALS as [BillingInterval, ...BillingInterval[]]);

// ---- time -------------------------------------------------------------------------

/** Earliest and latest frozen time a test clock takes: wide enough for any test, narrow enough that no date arithmetic overflows. */
export const MIN_FROZEN_TIME = new Date('2000-01-01T00:00:00Z');
export const MAX_FROZEN_TIME = new Date('2100-01-01T00:00:00Z');

/**
 * A frozen time: Unix seconds (as Stripe sends it) or an ISO 8601 timestamp with its offset.
 * Answers always carry ISO 8601 UTC, like every other time this API shows. Whole seconds:
 * billing computes in seconds (docs/architecture.md, "Proration").
 */
export const FrozenTimeSchema = z
  .union([z.int(), z.iso.datetime({ offset: true })], { error: 'must be Unix seconds (an integer) or an ISO 8601 timestamp with its offset, e.g. 2026-01-15T12:00:00Z' })
  .transform((value, ctx): Date => {
    const at = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
    const ms = at.getTime();
    if (Number.isNaN(ms) || ms < MIN_FROZEN_TIME.getTime() || ms > MAX_FROZEN_TIME.getTime()) {
      ctx.issues.push({ code: 'custom', input: value, message: `must be from ${MIN_FROZEN_TIME.toISOString()} to ${MAX_FROZEN_TIME.toISOString()}` });
      return z.NEVER;
    }
    if (ms % 1000 !== 0) {
      ctx.issues.push({ code: 'custom', input: value, message: 'must be a whole second' });
      return z.NEVER;
    }
    return at;
  })
  .meta({
    description: `Unix seconds (Stripe's form) or ISO 8601 with offset; whole seconds, from ${MIN_FROZEN_TIME.toISOString()} to ${MAX_FROZEN_TIME.toISOString()}.`,
    examples: [1768478400, '2026-01-15T12:00:00Z'],
  });

// ---- requests ---------------------------------------------------------------------

export const PriceSchema = z
  .strictObject({
    amount: AmountSchema.meta({ description: 'Minor units charged per period.', examples: [2000] }),
    currency: CurrencySchema,
    interval: BillingIntervalSchema,
    intervalCount: z.int().min(1).max(365).default(1).meta({ description: 'Periods of `interval` per billing period: at most a year (365 days, 52 weeks, 12 months, 1 year).' }),
  })
  .superRefine((price, ctx) => {
    const max = MAX_INTERVAL_COUNT[price.interval];
    if (price.intervalCount > max) ctx.addIssue({ code: 'custom', path: ['intervalCount'], message: `must be at most ${max} for interval ${price.interval} (a period is at most a year)` });
  });

const PaymentMethodSchema = PaymentMethodIdSchema.meta({
    description: 'The provider\'s payment method each invoice is charged to. With the simulated provider: pm_card_visa approves, pm_card_chargeDeclinedInsufficientFunds declines.',
    examples: ['pm_card_visa'],
  });

const ProviderCustomerSchema = ProviderCustomerIdSchema.meta({
  description: 'The processor\'s customer that `paymentMethod` is saved to (Stripe `cus_…`): invoices are charged off-session as that customer\'s.',
  examples: ['cus_NffrFeUfNV2Hib'],
});

export const CreateSubscriptionBody = z.strictObject({
  customerId: CustomerIdSchema,
  price: PriceSchema,
  paymentMethod: PaymentMethodSchema,
  providerCustomerId: ProviderCustomerSchema.optional(),
  trialDays: z.int().min(1).max(MAX_TRIAL_DAYS).optional().meta({ description: `A free trial of this many days (1 to ${MAX_TRIAL_DAYS}); billing starts at its end.` }),
  testClock: TestClockIdSchema.optional().meta({ description: 'Live on this test clock\'s time instead of the real clock.' }),
  metadata: MetadataSchema.optional(),
});

export const UpdateSubscriptionBody = z
  .strictObject({
    paymentMethod: PaymentMethodSchema.optional(),
    providerCustomerId: ProviderCustomerSchema.nullable().optional().meta({ description: 'A new processor customer; null removes it.' }),
    cancelAtPeriodEnd: z.boolean().optional().meta({ description: 'Cancel when the current period ends instead of renewing (false undoes it).' }),
    metadata: MetadataSchema.optional().meta({ description: 'Replaces the metadata as a whole.' }),
  })
  .refine(
    (b) => b.paymentMethod !== undefined || b.providerCustomerId !== undefined || b.cancelAtPeriodEnd !== undefined || b.metadata !== undefined,
    'must change at least one of paymentMethod, providerCustomerId, cancelAtPeriodEnd, metadata',
  );

export const CancelSubscriptionBody = z.strictObject({
  prorate: z.boolean().default(false).meta({ description: 'Credit the unused part of a paid period (recorded on the cancellation for the ledger).' }),
});

export const ChangePriceBody = z.strictObject({
  price: PriceSchema,
  prorate: z.boolean().default(true).meta({ description: 'Invoice the difference for the rest of the period now (credit the old price\'s unused time, charge the new price\'s).' }),
});

/** Pause and resume take no fields; an empty object or no body at all. */
export const EmptyCommandBody = z.strictObject({});

export const CreateTestClockBody = z.strictObject({
  frozenTime: FrozenTimeSchema,
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^\p{Cc}\p{Cs}]+$/u, 'must not contain control characters or unpaired surrogates')
    .optional(),
});

export const AdvanceTestClockBody = z.strictObject({
  frozenTime: FrozenTimeSchema.meta({ description: `Where to move the clock: later than its frozen time, by at most ${MAX_ADVANCE_MS / 86_400_000} days.` }),
});

export const GetBillingResourceQuery = z.strictObject({
  minPosition: z.string().optional(),
});

export const ListSubscriptionsQuery = z.strictObject({
  customerId: CustomerIdSchema.optional(),
  status: SubscriptionStatusSchema.optional(),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

export const ListInvoicesQuery = z.strictObject({
  customerId: CustomerIdSchema.optional(),
  subscriptionId: SubscriptionIdSchema.optional(),
  status: InvoiceStatusSchema.optional(),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

export const ListSubscriptionInvoicesQuery = ListInvoicesQuery.pick({ status: true, limit: true, cursor: true, minPosition: true });

// ---- responses --------------------------------------------------------------------

const Timestamp = z.string().meta({ description: 'ISO 8601, UTC.', examples: ['2026-01-15T12:00:00.000Z'] });
const AnswerCurrency = z.string().meta({ description: 'ISO 4217, upper case, as every answer of this API (README, "Currency codes").', examples: ['USD'] });

export const PriceViewSchema = z.object({
  amount: z.int().meta({ description: 'Minor units per billing period.' }),
  currency: AnswerCurrency,
  interval: BillingIntervalSchema,
  intervalCount: z.int(),
});

export const SubscriptionViewSchema = z.object({
  id: SubscriptionIdSchema,
  object: z.literal('subscription'),
  status: SubscriptionStatusSchema.meta({
    description: 'Stripe\'s statuses. A new subscription is `incomplete` (its first invoice is charged right after, in the background) or `trialing`.',
  }),
  customerId: CustomerIdSchema,
  price: PriceViewSchema,
  paymentMethod: z.string(),
  providerCustomerId: z.string().nullable().meta({ description: 'The processor\'s customer the payment method is saved to; null when none.' }),
  currentPeriodStart: Timestamp,
  currentPeriodEnd: Timestamp,
  billingCycleAnchor: Timestamp,
  trialStart: Timestamp.nullable(),
  trialEnd: Timestamp.nullable(),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: Timestamp.nullable(),
  pausedAt: Timestamp.nullable(),
  testClock: TestClockIdSchema.nullable().meta({ description: 'The test clock it lives on; null on the real clock. Its times are that clock\'s.' }),
  latestInvoice: InvoiceIdSchema.nullable().meta({ description: 'The newest invoice, as the read model knows it (null until the first is issued).' }),
  metadata: z.record(z.string(), z.string()),
  revision: z.string().meta({ description: 'Stream revision: the value of the ETag.' }),
  createdAt: Timestamp,
});

export const SubscriptionListSchema = z.object({
  data: z.array(SubscriptionViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const InvoiceLineSchema = z.object({
  kind: z.enum(['subscription', 'proration_credit', 'proration_charge']),
  amount: z.int().meta({ description: 'Minor units; a credit is negative.' }),
  description: z.string(),
  periodStart: Timestamp,
  periodEnd: Timestamp,
});

export const InvoiceAttemptSchema = z.object({
  attempt: z.int().min(1),
  paymentId: z.string().regex(new RegExp(`^${PAYMENT_ID_PREFIX}`)).meta({ description: 'The payment this attempt charged (GET /v1/payments/{id}).' }),
  at: Timestamp,
  outcome: z.enum(['pending', 'succeeded', 'failed']),
  failureCode: z.string().nullable(),
  settledAt: Timestamp.nullable(),
});

export const InvoiceViewSchema = z.object({
  id: InvoiceIdSchema,
  object: z.literal('invoice'),
  status: InvoiceStatusSchema,
  subscriptionId: SubscriptionIdSchema,
  customerId: CustomerIdSchema,
  currency: AnswerCurrency,
  billingReason: z.enum(['subscription_create', 'subscription_cycle', 'subscription_update', 'subscription_resume']),
  lines: z.array(InvoiceLineSchema),
  total: z.int().meta({ description: 'The sum of the lines, never below zero.' }),
  amountPaid: z.int(),
  amountDue: z.int().meta({ description: 'total − amountPaid.' }),
  periodStart: Timestamp,
  periodEnd: Timestamp,
  attemptCount: z.int().min(0),
  nextPaymentAttempt: Timestamp.nullable().meta({ description: 'When dunning charges again; null when no retry is scheduled.' }),
  attempts: z.array(InvoiceAttemptSchema),
  payments: z.array(z.string()).meta({ description: 'The payment of each attempt, in order.' }),
  testClock: TestClockIdSchema.nullable(),
  paidAt: Timestamp.nullable(),
  revision: z.string().meta({ description: 'Stream revision: the value of the ETag.' }),
  createdAt: Timestamp.meta({ description: 'When it was issued, on its subscription\'s clock.' }),
});

export const InvoiceListSchema = z.object({
  data: z.array(InvoiceViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const TestClockAdvanceSchema = z.object({
  from: Timestamp,
  to: Timestamp,
  requestedBy: z.string().meta({ description: 'The credential\'s actor that asked (`jwt:<sub>` or `key:<id>`).' }),
  requestedAt: Timestamp.meta({ description: 'Real time.' }),
  finishedAt: Timestamp.nullable().meta({ description: 'Real time; null while it runs.' }),
});

export const TestClockViewSchema = z.object({
  id: TestClockIdSchema,
  object: z.literal('test_clock'),
  frozenTime: Timestamp,
  status: z.enum(['ready', 'advancing']),
  name: z.string().nullable(),
  advancingTo: Timestamp.nullable(),
  advances: z.array(TestClockAdvanceSchema).optional().meta({ description: 'Every advance, oldest first (GET only; the newest 100).' }),
  revision: z.string().meta({ description: 'Stream revision: the value of the ETag.' }),
});
