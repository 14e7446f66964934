import { WEBHOOK_EVENT_TYPES } from './webhook-event-types.js';

/*
 * What an endpoint subscribes to: exact types (`payment.succeeded`), a resource's every
 * type (`refund.*`), or everything (`*`). A pattern must name something we send today, so
 * a typo (`payment.succeded`) is refused at registration instead of silently never firing.
 */

/** Patterns per endpoint; more is a mistake (use a wildcard). */
export const MAX_EVENT_PATTERNS = 100;

const PATTERN = /^(\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$/;

export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export const matchesAny = (patterns: readonly string[], type: string): boolean => patterns.some((p) => matchesPattern(p, type));

/** Why a pattern is refused, or undefined when it names at least one type we send. */
export function patternProblem(pattern: string, known: readonly string[] = WEBHOOK_EVENT_TYPES): string | undefined {
  if (!PATTERN.test(pattern)) return 'must be "*", "<resource>.*" or an event type such as "payment.succeeded"';
  if (!known.some((t) => matchesPattern(pattern, t))) return `matches no event type we send (known: ${known.join(', ')})`;
  return undefined;
}
