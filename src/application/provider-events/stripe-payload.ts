/*
 * Reading Stripe's event JSON without trusting its shape: the few fields the handler needs,
 * each checked. (The application layer knows Stripe's wire names, as the port's snapshots
 * do, but no library: the payload is plain JSON that the HTTP layer verified.)
 */

export type JsonObject = Readonly<Record<string, unknown>>;

export const asObject = (value: unknown): JsonObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;

export const textField = (o: JsonObject | undefined, key: string): string | undefined => {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** An id field that Stripe sends either as the id or, when expanded, as the object. */
export const idField = (o: JsonObject | undefined, key: string): string | undefined => {
  const v = o?.[key];
  if (typeof v === 'string' && v !== '') return v;
  return textField(asObject(v), 'id');
};

export function metadataOf(o: JsonObject | undefined): Readonly<Record<string, string>> {
  const m = asObject(o?.metadata);
  if (!m) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** `data.object` of an event: the object it is about, as it was when the event was made. */
export const eventObject = (payload: unknown): JsonObject | undefined => asObject(asObject(asObject(payload)?.data)?.object);
