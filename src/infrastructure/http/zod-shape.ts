import type { z } from 'zod';

/** Wrappers nest a few deep at most; the bound keeps a pathological schema from looping. */
const MAX_WRAPPERS = 8;

/** The schema beneath optional / nullable / default wrappers (an object, a record, …). */
export function unwrapSchema(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let depth = 0; depth < MAX_WRAPPERS; depth++) {
    const inner = (current._zod.def as { innerType?: z.core.$ZodType }).innerType;
    if (inner === undefined) return current;
    current = inner;
  }
  return current;
}
