import { z } from 'zod';
import type { LedgerEntry } from '../../application/ledger/ledger-entry.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import type { RefundView } from '../../application/refunds/refund-view.js';
import { ActivityEntrySchema, PaymentViewSchema, RefundViewSchema } from './schemas.js';
import { LedgerEntrySchema } from './ledger-schemas.js';
import { unwrapSchema } from './zod-shape.js';

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

/** `value` with its keys in canonical order, as `schema` describes it; values `schema` does not describe pass through. */
export function canonicalize(schema: z.core.$ZodType, value: unknown): unknown {
  const s = unwrapSchema(schema);
  if (Array.isArray(value)) return s instanceof z.ZodArray ? value.map((item) => canonicalize(s.element, item)) : value;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  const put = (key: string, v: unknown): void => {
    // defineProperty, so a "__proto__" key from stored JSON stays a key.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  };
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.core.$ZodType>;
    for (const key of Object.keys(shape)) if (Object.hasOwn(value, key)) put(key, canonicalize(shape[key] as z.core.$ZodType, value[key]));
    for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) put(key, value[key]);
    return out;
  }
  if (s instanceof z.ZodRecord) {
    for (const key of sortedKeys(value)) put(key, canonicalize(s.valueType, value[key]));
    return out;
  }
  return value;
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
 * Realtime change types whose data is a resource the API also serves: by the type's first
 * word (`payment.updated`, `refund.created`, `ledger.entry`), or the whole type (`activity`).
 */
const CHANGE_SCHEMAS: Readonly<Record<string, z.core.$ZodType>> = {
  payment: PaymentViewSchema,
  refund: RefundViewSchema,
  ledger: LedgerEntrySchema,
  activity: ActivityEntrySchema,
};

/** The wire form of a realtime change's data: as GET sends that resource; anything else as stored. */
export function changeWireData(type: string, data: unknown): unknown {
  const dot = type.indexOf('.');
  const kind = dot > 0 ? type.slice(0, dot) : type;
  const schema = Object.hasOwn(CHANGE_SCHEMAS, kind) ? CHANGE_SCHEMAS[kind] : undefined;
  return schema ? canonicalize(schema, data) : data;
}
