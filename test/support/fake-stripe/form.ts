/**
 * Stripe's request bodies are `application/x-www-form-urlencoded` with bracketed keys:
 * `metadata[paymentId]=pay_1`, `payment_method_types[0]=card`. This turns them back into
 * nested objects and arrays, as Stripe's API does, so the fake reads what the SDK really sent.
 */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

const MAX_PAIRS = 1_000;
const MAX_DEPTH = 5;

export function parseForm(body: string): FormObject {
  const root: FormObject = {};
  const params = new URLSearchParams(body);
  let pairs = 0;
  for (const [rawKey, value] of params) {
    if (++pairs > MAX_PAIRS) throw new Error('too many parameters');
    const path = keyPath(rawKey);
    if (path.length > MAX_DEPTH) throw new Error(`parameter nested too deep: ${rawKey}`);
    let node: FormObject = root;
    for (let i = 0; i < path.length - 1; i++) {
      const segment = path[i] as string;
      const next = node[segment];
      if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[segment] = {};
      node = node[segment] as FormObject;
    }
    node[path[path.length - 1] as string] = value;
  }
  return arraysFromIndexes(root) as FormObject;
}

function keyPath(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const head = key.slice(0, open);
  const rest = [...key.slice(open).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] as string);
  return [head, ...rest];
}

/** `{ '0': 'card', '1': 'link' }` is the array `['card', 'link']`, as Stripe reads it. */
function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const k of keys) converted[k] = arraysFromIndexes(value[k] as FormValue);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => converted[k] as FormValue);
  return converted;
}

/** The same parameters in any key order compare equal: how an idempotent replay is recognised. */
export function canonical(value: FormValue | undefined): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}
