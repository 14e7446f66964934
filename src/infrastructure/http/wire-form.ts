import { z } from 'zod';
import type { LedgerEntry } from '../../application/ledger/ledger-entry.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import { ActivityEntrySchema, PaymentViewSchema, RefundViewSchema } from './schemas.js';
import { LedgerEntrySchema } from './ledger-schemas.js';
import type { SubscriptionView } from '../../application/subscriptions/subscription-view.js';
import type { InvoiceView } from '../../application/subscriptions/invoice-view.js';
import type { TestClockState } from '../../domain/test-clock/test-clock.js';
import type { TestClockAdvanceRecord } from '../../application/subscriptions/billing-clock.js';
import { InvoiceViewSchema, SubscriptionViewSchema, TestClockViewSchema } from './subscription-schemas.js';
import { unwrapSchema } from './zod-shape.js';
import { DisputeViewSchema } from './dispute-schemas.js';
import type { DisputeView } from '../../application/disputes/dispute-view.js';

/** A dispute in its wire form: what GET, list pages and realtime `dispute.*` changes send. */
export const disputeWireForm = (dispute: DisputeView): unknown => canonicalize(DisputeViewSchema, dispute);

/*
 * The one JSON form of what the API sends, so that GET, a list page and a realtime
 * `change` carry the same bytes for the same payment. Storage does not keep key order
 * (jsonb orders keys by length, then bytes), and a projection folds metadata in the order
 * a client sent it, so every outlet writes through here: object keys in the order the
 * response schema declares them (the order /openapi.json shows), then any key the schema
 * does not know yet; record keys (metadata) sorted, because they have no declared order.
 */

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const sortedKeys = (value: Record<string, unknown>): string[] => Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Orders one value the way its schema says. Built once per schema (every command answer goes through here). */
type Orderer = (value: unknown) => unknown;

const passThrough: Orderer = (value) => value;

const put = (out: Record<string, unknown>, key: string, value: unknown): void => {
  // A "__proto__" key from stored JSON must stay a key, not become the object's prototype.
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
};

const orderers = new WeakMap<z.core.$ZodType, Orderer>();

function ordererFor(schema: z.core.$ZodType): Orderer {
  const known = orderers.get(schema);
  if (known) return known;
  // Recursive schemas meet themselves while being compiled: the placeholder defers to the result.
  let compiled: Orderer = passThrough;
  orderers.set(schema, (value) => compiled(value));
  compiled = compile(unwrapSchema(schema));
  orderers.set(schema, compiled);
  return compiled;
}

function compile(s: z.core.$ZodType): Orderer {
  if (s instanceof z.ZodArray) {
    const item = ordererFor(s.element);
    return (value) => (Array.isArray(value) ? value.map(item) : value);
  }
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.core.$ZodType>;
    const fields = Object.keys(shape).map((key) => [key, ordererFor(shape[key] as z.core.$ZodType)] as const);
    return (value) => {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, order] of fields) if (Object.hasOwn(value, key)) put(out, key, order(value[key]));
      for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) put(out, key, value[key]);
      return out;
    };
  }
  if (s instanceof z.ZodRecord) {
    const item = ordererFor(s.valueType);
    return (value) => {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const key of sortedKeys(value)) put(out, key, item(value[key]));
      return out;
    };
  }
  return passThrough;
}

/** `value` with its keys in canonical order, as `schema` describes it; values `schema` does not describe pass through. */
export function canonicalize(schema: z.core.$ZodType, value: unknown): unknown {
  return ordererFor(schema)(value);
}

/** A payment in its wire form: what GET, list pages and realtime changes send. */
export const paymentWireForm = (payment: PaymentView): unknown => canonicalize(PaymentViewSchema, payment);

/** A refund in its wire form: what GET, list pages and realtime changes send. */
export const refundWireForm = (refund: RefundView): unknown => canonicalize(RefundViewSchema, refund);

/** A timeline entry in its wire form: GET /v1/customers/:id/activity and `activity` changes. */
export const activityWireForm = (entry: unknown): unknown => canonicalize(ActivityEntrySchema, entry);

/** A ledger entry in its wire form: what GET /v1/ledger/entries and the `ledger` topic send. */
export const ledgerEntryWireForm = (entry: LedgerEntry): unknown => canonicalize(LedgerEntrySchema, entry);

/**
 * A subscription in its wire form: what GET, list pages, command answers and realtime
 * `subscription.*` changes send. `latestInvoice` is the read model's (the aggregate's own
 * state does not hold it).
 */
export const subscriptionWireForm = (subscription: SubscriptionView): unknown => canonicalize(SubscriptionViewSchema, subscription);

/** An invoice in its wire form: what GET, list pages and realtime `invoice.*` changes send. */
export const invoiceWireForm = (invoice: InvoiceView): unknown => canonicalize(InvoiceViewSchema, invoice);

/** A test clock in its wire form; `advances` only where the answer read the whole stream (GET). */
export function testClockWireForm(c: TestClockState & { readonly exists: true }, revision: bigint, advances?: readonly TestClockAdvanceRecord[]): unknown {
  return canonicalize(TestClockViewSchema, {
    id: c.testClockId,
    object: 'test_clock',
    frozenTime: c.frozenTime,
    status: c.status,
    name: c.name,
    advancingTo: c.advancingTo,
    ...(advances === undefined ? {} : { advances }),
    revision: revision.toString(),
  });
}

/**
 * Realtime change types whose data is a resource the API also serves: by the type's first
 * word (`payment.updated`, `refund.created`, `ledger.entry`, `subscription.updated`,
 * `invoice.created`), or the whole type (`activity`).
 */
const CHANGE_SCHEMAS: Readonly<Record<string, z.core.$ZodType>> = {
  payment: PaymentViewSchema,
  refund: RefundViewSchema,
  subscription: SubscriptionViewSchema,
  invoice: InvoiceViewSchema,
  ledger: LedgerEntrySchema,
  activity: ActivityEntrySchema,
  dispute: DisputeViewSchema,
};

/** The wire form of a realtime change's data: as GET sends that resource; anything else as stored. */
export function changeWireData(type: string, data: unknown): unknown {
  const dot = type.indexOf('.');
  const kind = dot > 0 ? type.slice(0, dot) : type;
  const schema = Object.hasOwn(CHANGE_SCHEMAS, kind) ? CHANGE_SCHEMAS[kind] : undefined;
  return schema ? canonicalize(schema, data) : data;
}
