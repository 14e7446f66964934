import { z } from 'zod';
import type { LedgerEntry } from '../../application/ledger/ledger-entry.js';
import type { PaymentView } from '../../application/payments/payment-view.js';
import { LedgerEntrySchema } from './ledger-schemas.js';
import { PaymentViewSchema } from './schemas.js';
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

/** Realtime change types whose data is a payment. */
const PAYMENT_CHANGE = /^payment\./;

/** A ledger entry in its wire form: what GET /v1/ledger/entries and the `ledger` topic send. */
export const ledgerEntryWireForm = (entry: LedgerEntry): unknown => canonicalize(LedgerEntrySchema, entry);

/** Realtime change types whose data is a ledger entry. */
const LEDGER_CHANGE = /^ledger\./;

/** The wire form of a realtime change's data: a payment's or a ledger entry's as GET sends it; anything else as stored. */
export const changeWireData = (type: string, data: unknown): unknown => {
  if (PAYMENT_CHANGE.test(type)) return canonicalize(PaymentViewSchema, data);
  if (LEDGER_CHANGE.test(type)) return canonicalize(LedgerEntrySchema, data);
  return data;
};
