import { z } from 'zod';
import type { FieldError } from './problem.js';
import { validationProblem } from './problem.js';
import { unwrapSchema } from './zod-shape.js';

const joinPath = (path: readonly PropertyKey[]): string => path.map((p) => String(p)).join('.');

/**
 * Stripe's names for fields we spell otherwise. Integrators arrive with Stripe habits, and
 * a strict schema that only says "unknown field" sends them to the documentation for a
 * one-word fix. A hint is given only when its target is a field of the object refused,
 * so `amount_to_capture` points to `amount` on capture, `cancellation_reason` to `reason`
 * on cancel. Snake_case spellings of our own camelCase fields are found without a table.
 */
const STRIPE_NAMES: Readonly<Record<string, readonly string[]>> = {
  customer: ['customerId'],
  amount_to_capture: ['amount'],
  cancellation_reason: ['reason'],
  starting_after: ['cursor'],
};

const camelCase = (name: string): string => name.replace(/[_-]+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The field names of the object schema at `path` inside `schema`; empty when there is none. */
function fieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): ReadonlySet<string> {
  let current = unwrapSchema(schema);
  for (const segment of path) {
    if (!(current instanceof z.ZodObject)) return new Set();
    const next = (current.shape as Record<string, z.core.$ZodType | undefined>)[String(segment)];
    if (next === undefined) return new Set();
    current = unwrapSchema(next);
  }
  return current instanceof z.ZodObject ? new Set(Object.keys(current.shape)) : new Set();
}

/** The field `unknown` was probably meant to be, among `fields`. */
export function suggestField(unknown: string, fields: ReadonlySet<string>): string | undefined {
  const candidates = [...(Object.hasOwn(STRIPE_NAMES, unknown) ? (STRIPE_NAMES[unknown] ?? []) : []), camelCase(unknown)];
  return candidates.find((candidate) => candidate !== unknown && fields.has(candidate));
}

interface FieldErrorWithHint extends FieldError {
  /** The field an unknown one was probably meant to be. */
  readonly meant?: string;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType | undefined): FieldErrorWithHint[] {
  const out: FieldErrorWithHint[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const fields = schema === undefined ? new Set<string>() : fieldsAt(schema, issue.path);
      for (const key of issue.keys) {
        const path = joinPath([...issue.path, key]);
        const meant = suggestField(key, fields);
        out.push(meant === undefined ? { path, message: 'is not a known field' } : { path, message: `is not a known field; did you mean \`${meant}\`?`, meant });
      }
      continue;
    }
    out.push({ path: joinPath(issue.path), message: issue.message });
  }
  return out;
}

/**
 * Zod issues as the `errors` of a validation problem. An unknown field is reported at its
 * own path (zod puts it on the parent), so `{"amout": 5}` says `amout`, not "the body";
 * with `schema`, an unknown field that is another spelling of a known one (Stripe's
 * `customer`, `capture_method`) names the field meant.
 */
export const fieldErrors = (issues: readonly z.core.$ZodIssue[], schema?: z.core.$ZodType): FieldError[] =>
  describeIssues(issues, schema).map(({ path, message }) => ({ path, message }));

/** At most this many hints in a problem's detail; every one is in `errors` anyway. */
const MAX_HINTS_IN_DETAIL = 3;

/**
 * Parses `value` or throws a 400 validation problem naming every bad field. Every request
 * body and query string goes through here, so every endpoint gives the same hints.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const described = describeIssues(parsed.error.issues, schema);
  const errors = described.map(({ path, message }) => ({ path, message }));
  const hints = described.filter((e) => e.meant !== undefined).slice(0, MAX_HINTS_IN_DETAIL);
  if (hints.length === 0) throw validationProblem(errors);
  // The hint goes in the detail too: it is the one line most clients show.
  const said = hints.map((e) => `\`${e.path}\` is not a field here: did you mean \`${e.meant}\`?`).join(' ');
  throw validationProblem(errors, `${said} See errors.`);
}
