import { z } from 'zod';
import type { CurrencyCode } from '../../domain/currency.js';
import { isCurrencyCode, notForPayments } from '../../domain/currency.js';
import { PAYMENT_ID_PREFIX, REFUND_ID_PREFIX } from '../../domain/ids.js';
import { REFUND_REASONS } from '../../domain/refund/events.js';
import type { RefundReason } from '../../domain/refund/events.js';
import { parseCalendarDate } from '../../application/reports/calendar-date.js';
import { MAX_AMOUNT_MINOR } from '../../domain/money.js';
import { ACTIVITY_BILLING_REASONS, ACTIVITY_STATUSES, ACTIVITY_TYPES } from '../../application/ports/activity-feed.js';
import { DISPUTE_STATUSES } from '../../domain/dispute/events.js';
import type { DisputeStatus } from '../../domain/dispute/events.js';
import { PROBLEM_CODES } from './problem.js';

/*
 * The API's shapes, once: request schemas validate at runtime and, with the response
 * schemas, generate /openapi.json. Request objects are strict, so a misspelt field is a
 * 400 rather than silently ignored.
 */

// ---- shared pieces ----------------------------------------------------------------

/*
 * Strings are stored in PostgreSQL (jsonb and text refuse NUL and unpaired surrogates:
 * such a value would fail the write as a 500) and written to logs, so free text may hold
 * any character but control characters (tab and line breaks excepted) and lone surrogates.
 */
const FREE_TEXT = /^(?:[^\p{Cc}\p{Cs}]|[\t\n\r])*$/u;
const FREE_TEXT_MESSAGE = 'must not contain control characters (other than tab and line breaks) or unpaired surrogates';
const freeText = (max: number) => z.string().max(max).regex(FREE_TEXT, FREE_TEXT_MESSAGE);

export const AmountSchema = z
  .int()
  .min(1)
  .max(MAX_AMOUNT_MINOR)
  .meta({ description: 'Integer count of minor units of the currency (cents for USD, yen for JPY, fils for BHD).', examples: [1999] });

/**
 * Every currency the API takes, in a body or a query: Stripe's clients send lower case, so
 * `usd` and `USD` are the same currency, normalised to upper case on the way in (ISO 4217 as
 * stored; responses always use upper case). A real ISO 4217 code that is not money a card is
 * charged in (XXX, XAU, …) is refused as such, not as "not a code".
 */
export const CurrencySchema = z
  .string({ error: 'must be an ISO 4217 currency code, e.g. USD' })
  .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 currency code: three letters, e.g. USD or usd')
  .transform((code, ctx): CurrencyCode => {
    const upper = code.toUpperCase();
    if (isCurrencyCode(upper)) return upper;
    ctx.issues.push({ code: 'custom', input: code, message: notForPayments(upper) ?? `${upper} is not an ISO 4217 currency code` });
    return z.NEVER;
  })
  .meta({ description: 'ISO 4217 currency code, in either case (`usd` or `USD`). Responses always use upper case.', examples: ['USD', 'usd'] });

export const CustomerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_\-.]{1,64}$/, 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_", "-", "."')
  .meta({ description: 'The caller\'s own customer id.', examples: ['cus_42'] });

export const PaymentIdSchema = z
  .string()
  .regex(new RegExp(`^${PAYMENT_ID_PREFIX}[0-9A-HJKMNP-TV-Z]{26}$`))
  .meta({ description: 'Payment id: `pay_` followed by 26 Crockford base32 characters (time-ordered).', examples: ['pay_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'] });

export const PaymentStatusSchema = z.enum(['processing', 'requires_capture', 'succeeded', 'partially_refunded', 'refunded', 'canceled', 'failed']);
export const CaptureMethodSchema = z.enum(['automatic', 'manual']);
export const CancellationReasonSchema = z.enum(['requested_by_customer', 'duplicate', 'fraudulent', 'abandoned']);

// ---- refunds (shared by the read side and POST /v1/refunds) -----------------------------

export const RefundIdSchema = z
  .string()
  .regex(new RegExp(`^${REFUND_ID_PREFIX}[0-9A-HJKMNP-TV-Z]{26}$`))
  .meta({ description: 'Refund id: `re_` followed by 26 Crockford base32 characters (time-ordered).', examples: ['re_01JD3Q4V5W6X7Y8Z9A0B1C2D3E'] });
export const RefundStatusSchema = z.enum(['pending', 'succeeded', 'failed', 'canceled']);
export const RefundReasonSchema = z.enum(REFUND_REASONS as [RefundReason, ...RefundReason[]]);

export const MAX_METADATA_KEYS = 50;
export const MetadataSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(40)
      // Brackets are how form encodings nest; control characters break logs. Neither is a key.
      .regex(/^[^[\]\p{Cc}\p{Cs}]+$/u, 'must not contain brackets, control characters or unpaired surrogates'),
    freeText(500),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `must have at most ${MAX_METADATA_KEYS} keys`)
  .meta({ maxProperties: MAX_METADATA_KEYS, description: 'Your own string key-value pairs: up to 50 keys of at most 40 characters, values of at most 500.' });

export const PositionSchema = z
  .string()
  .regex(/^\d{1,20}\.\d{1,20}$/)
  .meta({ description: 'A place in the global event log, as returned in Ledger-Position. Opaque: compare only by sending it back.', examples: ['8812.8812'] });

// ---- requests ---------------------------------------------------------------------

/**
 * A processor's payment method id, as Stripe writes them (`pm_…`, and the older `card_…` and
 * `src_…` that its PaymentIntents still accept). Checked here because payments are intent
 * first: whatever reaches the processor has its request recorded, so only a well-formed id
 * that the processor does not know may leave a failed payment behind.
 */
export const PaymentMethodIdSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(pm|card|src)_[A-Za-z0-9_]+$/, 'must be a payment method id: pm_ followed by letters, digits and underscores (e.g. pm_card_visa)');

/** A Stripe Customer id (`cus_…`): the customer a saved payment method is attached to. */
export const ProviderCustomerIdSchema = z
  .string()
  .max(255)
  .regex(/^cus_[A-Za-z0-9]+$/, 'must be a processor customer id: cus_ followed by letters and digits (e.g. cus_NffrFeUfNV2Hib)');

export const CreatePaymentBody = z.strictObject({
  customerId: CustomerIdSchema,
  amount: AmountSchema,
  currency: CurrencySchema,
  paymentMethod: PaymentMethodIdSchema.meta({
    description: 'The provider\'s payment method id. With the simulated provider: pm_card_visa approves, pm_card_chargeDeclined declines.',
    examples: ['pm_card_visa'],
  }),
  captureMethod: CaptureMethodSchema.default('automatic').meta({
    description: '`automatic` captures at once; `manual` authorizes and waits for POST /v1/payments/{id}/capture.',
  }),
  description: freeText(1000).optional(),
  metadata: MetadataSchema.optional(),
  providerCustomerId: ProviderCustomerIdSchema.optional().meta({
    description: 'The processor\'s customer that `paymentMethod` is saved to (Stripe `cus_…`): Stripe charges a saved card only with its customer.',
  }),
});
export type CreatePaymentBody = z.output<typeof CreatePaymentBody>;

export const CapturePaymentBody = z.strictObject({
  amount: AmountSchema.optional().meta({ description: 'Minor units to capture; absent captures everything capturable. The rest is released.' }),
});

export const CancelPaymentBody = z.strictObject({
  reason: CancellationReasonSchema.optional(),
});

export const CreateRefundBody = z.strictObject({
  paymentId: PaymentIdSchema,
  amount: AmountSchema.optional().meta({ description: 'Minor units to refund, in the payment\'s currency; absent refunds everything still refundable.' }),
  reason: RefundReasonSchema.optional(),
  metadata: MetadataSchema.optional(),
});
export type CreateRefundBody = z.output<typeof CreateRefundBody>;

export const LimitSchema = z.int().min(1).max(100).default(20);

/** Query strings arrive as strings; an integer is digits only (no "1e1", no "0x10", no " 5"). */
const queryInteger = (schema: z.ZodType<number, number>) =>
  z.string().regex(/^\d{1,9}$/, 'must be an integer').transform(Number).pipe(schema);

/** Commands take no query parameters; one sent anyway is a mistake worth a 400. */
export const CommandQuery = z.strictObject({});

export const GetPaymentQuery = z.strictObject({
  minPosition: z.string().optional(),
});

export const ListPaymentsQuery = z.strictObject({
  customerId: CustomerIdSchema.optional(),
  status: PaymentStatusSchema.optional(),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

export const GetRefundQuery = z.strictObject({
  minPosition: z.string().optional(),
});

/** GET /v1/refunds: the filters combine; customer-scoped credentials get their customer implied. */
export const ListRefundsQuery = z.strictObject({
  paymentId: PaymentIdSchema.optional(),
  customerId: CustomerIdSchema.optional(),
  status: RefundStatusSchema.optional(),
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

/** GET /v1/payments/:id/refunds: the payment is the filter. */
export const ListPaymentRefundsQuery = ListRefundsQuery.pick({ limit: true, cursor: true, minPosition: true });

// ---- responses --------------------------------------------------------------------

export const PaymentFailureSchema = z.object({
  code: z.string().meta({ examples: ['card_declined'] }),
  declineCode: z.string().nullable().meta({ examples: ['generic_decline'] }),
  message: z.string(),
});

export const PaymentViewSchema = z.object({
  id: PaymentIdSchema,
  object: z.literal('payment'),
  status: PaymentStatusSchema,
  customerId: CustomerIdSchema,
  amount: z.int(),
  amountCapturable: z.int(),
  amountCaptured: z.int(),
  amountReleased: z.int(),
  amountRefunded: z.int().meta({ description: 'Minor units given back by succeeded refunds.' }),
  currency: z.string(),
  captureMethod: CaptureMethodSchema,
  paymentMethod: z.string(),
  providerCustomerId: z.string().nullable().meta({ description: 'The processor\'s customer the payment method is saved to; null when none was given.' }),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  failure: PaymentFailureSchema.nullable().meta({ description: 'Why the card was declined, when status is `failed`.' }),
  cancellationReason: z.string().nullable(),
  pendingOperation: z
    .discriminatedUnion('operation', [
      z.object({ operation: z.literal('create') }),
      z.object({ operation: z.literal('capture'), amount: z.int() }),
      z.object({ operation: z.literal('cancel'), reason: z.string().nullable() }),
    ])
    .nullable()
    .meta({ description: 'What was asked of the payment processor and is not answered yet (intent first); null when nothing is pending.' }),
  revision: z.string().meta({ description: 'Stream revision: the value of the ETag.' }),
  createdAt: z.string(),
  updatedAt: z.string(),
  // Disputes (issue 10): only on GET /v1/payments/:id and the list, and only when there are any.
  disputes: z
    .array(
      z.object({
        id: z.string(),
        status: z.enum(DISPUTE_STATUSES as [DisputeStatus, ...DisputeStatus[]]),
        amount: z.int(),
        reason: z.string(),
      }),
    )
    .optional()
    .meta({ description: 'The payment\'s disputes (chargebacks), oldest first; absent when it has none (and on command answers and `payment.*` changes). See GET /v1/disputes/{id}.' }),
});

export const PaymentListSchema = z.object({
  data: z.array(PaymentViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const RefundViewSchema = z.object({
  id: RefundIdSchema,
  object: z.literal('refund'),
  paymentId: PaymentIdSchema,
  customerId: CustomerIdSchema,
  amount: z.int().meta({ description: 'Minor units of the payment\'s currency.' }),
  currency: z.string().meta({ description: 'ISO 4217, upper case.', examples: ['USD'] }),
  status: RefundStatusSchema.meta({ description: '`pending` until the processor answers; then `succeeded`, `failed` or `canceled` for good.' }),
  reason: RefundReasonSchema.nullable(),
  failureReason: z.string().nullable().meta({ description: 'Why the processor could not refund, when status is `failed` (Stripe\'s `failure_reason`).', examples: ['expired_or_canceled_card'] }),
  metadata: z.record(z.string(), z.string()),
  revision: z.string().meta({ description: 'Stream revision of the refund: the value of the ETag.' }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const RefundListSchema = z.object({
  data: z.array(RefundViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const FieldErrorSchema = z.object({
  path: z.string().meta({ description: 'Dotted path of the offending field, or the header or query parameter name.', examples: ['amount'] }),
  message: z.string(),
});

export const ProblemSchema = z
  .object({
    type: z.string().meta({ description: 'https://ledger.dev/problems/<code>', examples: ['https://ledger.dev/problems/validation_failed'] }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string().meta({ description: 'The request path.' }),
    code: z.enum(PROBLEM_CODES as [string, ...string[]]),
    requestId: z.string(),
    errors: z.array(FieldErrorSchema).optional().meta({ description: 'Present for validation problems: which fields, and why.' }),
  })
  .loose()
  .meta({ description: 'RFC 9457 problem details, served as application/problem+json. Some codes add members, e.g. currentRevision on revision_mismatch.' });

export const ProjectionStatusSchema = z.object({
  name: z.string(),
  version: z.int(),
  status: z.enum(['running', 'catching_up', 'stopped', 'failed', 'rebuilding', 'needs_rebuild']),
  checkpoint: z.string().nullable(),
  lag: z.int().nullable(),
  error: z.string().nullable(),
  failedPosition: z.string().nullable(),
  updatedAt: z.string().nullable(),
})
  // The runner adds what it knows beyond these (stored version, leader, rebuild progress).
  .loose();

export const ProjectionStatusListSchema = z.object({ data: z.array(ProjectionStatusSchema) });

export const HealthSchema = z.object({ status: z.literal('ok') });

export const ReadinessCheckResultSchema = z.object({
  name: z.string(),
  status: z.enum(['ok', 'failed', 'timed_out']),
  durationMs: z.number(),
});

export const ReadinessSchema = z.object({
  status: z.literal('ready'),
  checkedAt: z.string(),
  checks: z.array(ReadinessCheckResultSchema),
});

// ---- activity feed ----------------------------------------------------------------

export const ListActivityQuery = z.strictObject({
  limit: queryInteger(z.int().min(1).max(100)).optional(),
  cursor: z.string().min(1).max(512).optional(),
  minPosition: z.string().optional(),
});

export const ActivityEntrySchema = z.object({
  id: z.uuid().meta({ description: 'The id of the event the entry records.' }),
  type: z.enum(ACTIVITY_TYPES),
  occurredAt: z.string().meta({ examples: ['2026-01-01T12:00:00.000Z'] }),
  position: PositionSchema,
  paymentId: PaymentIdSchema.optional(),
  refundId: z.string().optional(),
  subscriptionId: z.string().optional(),
  invoiceId: z.string().optional(),
  disputeId: z.string().optional(),
  amount: z.int().optional().meta({
    description: 'Integer minor units, with `currency`. Always on payment and refund entries; on subscription and invoice entries when the fact names an amount (a price, an invoice total, an amount paid, a credit).',
  }),
  currency: z.string().optional(),
  status: z
    .enum(ACTIVITY_STATUSES)
    .optional()
    .meta({ description: 'The subscription\'s or invoice\'s status after the fact, when the fact alone decides it.' }),
  billingReason: z.enum(ACTIVITY_BILLING_REASONS).optional().meta({ description: 'An issued invoice\'s reason.' }),
  periodStart: z.string().optional().meta({ description: 'The billing period the fact is about: an invoice\'s, or the one a subscription entered.' }),
  periodEnd: z.string().optional(),
  summary: z.string().meta({ examples: ['Payment of 12.50 USD authorized', 'Invoice of 20.00 USD issued (renewal) for 2026-02-15T12:00:00.000Z to 2026-03-15T12:00:00.000Z'] }),
});

export const ActivityPageSchema = z.object({
  data: z.array(ActivityEntrySchema),
  nextCursor: z.string().nullable().meta({ description: 'Send back as `cursor` for older entries; null on the last page.' }),
});

// ---- reports ----------------------------------------------------------------------

/** Longest range a revenue report covers: three years of days (one of them a leap year). */
export const MAX_REPORT_DAYS = 3 * 365 + 1;

const ReportDateSchema = z
  .string()
  // abort: a date that is not written YYYY-MM-DD gets one message, not two.
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date written YYYY-MM-DD', abort: true })
  .refine((value) => parseCalendarDate(value) !== undefined, 'must be a day that exists')
  .meta({ description: 'A UTC calendar day, `YYYY-MM-DD`, included in the report.', examples: ['2025-03-01'] });

export const ReportGranularitySchema = z
  .enum(['day', 'month'])
  .meta({ description: 'One row per UTC day (`period` is `YYYY-MM-DD`) or per UTC calendar month (`YYYY-MM`), and currency.' });

export const RevenueReportQuery = z.strictObject({
  from: ReportDateSchema,
  to: ReportDateSchema,
  granularity: ReportGranularitySchema.default('day'),
  currency: CurrencySchema.optional().meta({ description: 'Only this currency. ISO 4217, upper or lower case (`usd` and `USD` alike).', examples: ['usd'] }),
  minPosition: z.string().optional(),
});

export const RevenueRowSchema = z.object({
  period: z.string().meta({ description: '`YYYY-MM-DD` (granularity day) or `YYYY-MM` (month), in UTC.', examples: ['2025-03-01'] }),
  currency: z.string().meta({ description: 'ISO 4217, upper case.', examples: ['USD'] }),
  gross: z.int().meta({ description: 'Captured in the period, minor units.' }),
  refunded: z.int().meta({ description: 'Refunded (succeeded refunds) in the period, minor units.' }),
  net: z.int().meta({ description: 'gross − refunded; negative when the period refunded more than it captured.' }),
  payments: z.int().meta({ description: 'Captures in the period.' }),
  refunds: z.int().meta({ description: 'Succeeded refunds in the period.' }),
});

export const RevenueReportSchema = z.object({
  data: z.array(RevenueRowSchema).meta({ description: 'In (period, currency) order; periods with nothing captured or refunded have no row.' }),
});
