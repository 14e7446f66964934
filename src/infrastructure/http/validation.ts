import type { z } from 'zod';
import type { FieldError } from './problem.js';
import { validationProblem } from './problem.js';

const joinPath = (path: readonly PropertyKey[]): string => path.map((p) => String(p)).join('.');

/**
 * Zod issues as the `errors` of a validation problem. An unknown field is reported at its
 * own path (zod puts it on the parent), so `{"amout": 5}` says `amout`, not "the body".
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: joinPath([...issue.path, key]), message: 'is not a known field' });
      continue;
    }
    out.push({ path: joinPath(issue.path), message: issue.message });
  }
  return out;
}

/** Parses `value` or throws a 400 validation problem naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationProblem(fieldErrors(parsed.error.issues));
}
