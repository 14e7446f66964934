import pino from 'pino';
import type { Bindings, ChildLoggerOptions, DestinationStream, Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Defaults to stdout. Tests pass a stream to read the lines back. */
  readonly destination?: DestinationStream;
  /** Fields added to every line, e.g. { service: 'ledger' }. */
  readonly base?: Readonly<Record<string, unknown>>;
}

export const REDACTED = '[Redacted]';

/**
 * Field names whose values never reach a log: credentials (authorization, cookies,
 * anything called a secret, token, password or API key) and idempotency keys, which
 * let whoever holds one replay somebody's payment response. Matched anywhere in a
 * field's name and at any depth, because a header map, a config dump or an error's
 * context can all carry them under names nobody listed in advance.
 */
const SENSITIVE_FIELD = /authorization|cookie|secret|token|password|passwd|api[-_]?key|idempotency[-_]?key/i;

const MAX_DEPTH = 8;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of `value` with sensitive fields replaced. Only plain objects and arrays are
 * walked: Errors, Dates and class instances go to pino's serializers untouched, which is
 * what keeps an error's message and stack (non-enumerable) in the line.
 */
export function redactSensitive(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => redactSensitive(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // defineProperty, so a "__proto__" field from parsed JSON stays a field.
    Object.defineProperty(out, key, {
      value: SENSITIVE_FIELD.test(key) && v !== undefined && v !== null ? REDACTED : redactSensitive(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

type ChildFactory = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

/** One JSON object per line on stdout (or the given stream), at the configured level. */
export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: { ...(options.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactSensitive(object) as Record<string, unknown>,
        bindings: (bindings) => redactSensitive(bindings) as Record<string, unknown>,
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // pino formats a child's bindings with the identity, not our `bindings` formatter, so
  // `logger.child({ apiToken })` would print the token. Children are created with
  // Object.create(parent), so this override is inherited by every descendant.
  const pinoChild = Reflect.get(logger, 'child') as unknown as ChildFactory;
  const redactingChild: ChildFactory = function (this: Logger, bindings, childOptions) {
    return pinoChild.call(this, redactSensitive(bindings) as Bindings, childOptions);
  };
  Object.defineProperty(logger, 'child', { value: redactingChild, writable: true, configurable: true });
  return logger;
}

export type { Logger };
