import { z } from 'zod';

/**
 * Every setting the service reads, parsed once at start. Defaults make `npm start` work
 * on a developer machine with a local PostgreSQL and nothing else set.
 */
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/ledger'),
  DATABASE_POOL_MAX: positiveInt.max(200).default(20),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  EVENTSTORE_URL: z.string().startsWith('esdb').optional(),
  PAYMENT_PROVIDER: z.enum(['simulated', 'stripe']).default('simulated'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PROJECTIONS_ENABLED: z.stringbool().default(true),
  PROJECTION_BATCH_SIZE: positiveInt.max(10_000).default(500),
  HTTP_BODY_LIMIT_BYTES: positiveInt.max(10 * 1024 * 1024).default(64 * 1024),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
  SHUTDOWN_GRACE_MS: positiveInt.max(120_000).default(10_000),
  REALTIME_RETENTION_HOURS: positiveInt.max(24 * 365).default(24 * 7),
}).superRefine((c, ctx) => {
  if (c.EVENT_STORE === 'eventstoredb' && !c.EVENTSTORE_URL) {
    ctx.addIssue({ code: 'custom', path: ['EVENTSTORE_URL'], message: 'required when EVENT_STORE=eventstoredb (e.g. esdb://localhost:2113?tls=false)' });
  }
  if (c.PAYMENT_PROVIDER === 'stripe') {
    ctx.addIssue({ code: 'custom', path: ['PAYMENT_PROVIDER'], message: 'the Stripe adapter is not available yet; use "simulated"' });
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment; a bad value is one readable line per setting, not a stack trace. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
}
