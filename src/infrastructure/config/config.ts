import { z } from 'zod';

/**
 * Every setting the service reads, parsed once at start. Defaults make `npm start` work
 * on a developer machine with a local PostgreSQL and nothing else set.
 */
const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
/** An empty variable counts as unset: `AUTH_JWT_SECRET=` in a .env file must not become a blank secret. */
const optionalString = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().optional());
const commaList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
  z.array(z.string()),
);

/**
 * Well known on purpose: anyone can mint tokens with it, so it only ever serves a developer
 * machine or a test run. NODE_ENV=production refuses it (and refuses to start without a
 * real key), and every process that falls back to it says so loudly.
 */
export const DEVELOPMENT_JWT_SECRET = 'ledger-development-only-jwt-secret-0000000000';
/** The same for the API key pepper: keys made in development do not verify anywhere else. */
export const DEVELOPMENT_API_KEY_PEPPER = 'ledger-development-only-api-key-pepper-000000';
/** HS256 keys shorter than the hash output are guessable offline from one token (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  /** Default: 0.0.0.0 in production (containers), 127.0.0.1 elsewhere (a developer's machine). */
  HOST: z.string().min(1).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/ledger'),
  DATABASE_POOL_MAX: positiveInt.max(200).default(20),
  /** Longest wait for a database connection (new, or free in a full pool) before a request answers 503. */
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.min(100).max(60_000).default(2_000),
  /** Longest one request-path statement may take (a silently cut connection fails after this). */
  DATABASE_QUERY_TIMEOUT_MS: positiveInt.min(100).max(300_000).default(2_500),
  EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  EVENTSTORE_URL: z.string().startsWith('esdb').optional(),
  /** Set: the activity feed lives in this MongoDB (its database from the URL, else `ledger`). Unset: in PostgreSQL (JSONB). */
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL').optional(),
  PAYMENT_PROVIDER: z.enum(['simulated', 'stripe']).default('simulated'),
  /** Required when PAYMENT_PROVIDER=stripe: `sk_test_…`/`rk_test_…`, or a live key with NODE_ENV=production only. */
  STRIPE_SECRET_KEY: optionalString,
  /** For tests and stripe-mock-like servers only: where the Stripe API is (default api.stripe.com:443 over https). */
  STRIPE_API_HOST: optionalString,
  STRIPE_API_PORT: port.optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  /** Longest wait for one Stripe answer; a longer one is retried with the same idempotency key. */
  STRIPE_TIMEOUT_MS: positiveInt.min(100).max(120_000).default(20_000),
  /** Retries of a network error, 429, 409 or 5xx, with backoff, before a command answers provider_unavailable. */
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  // ---- Stripe webhooks (routes/stripe-webhooks.ts; application/provider-events) ----
  /** Signing secrets of the webhook endpoint (`whsec_…`), comma-separated: several while one is rolled. Empty: the endpoint answers 503. */
  STRIPE_WEBHOOK_SECRET: commaList.default([]),
  /** Oldest signature timestamp accepted, in seconds (Stripe's default is 300). */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: positiveInt.max(3_600).default(300),
  /** Processing attempts of one inbox event before it is parked as failed. */
  WEBHOOK_INBOX_MAX_ATTEMPTS: positiveInt.max(50).default(8),
  /** Backoff of the first retry of an inbox event, and the longest any retry waits (exponential between, jittered). */
  WEBHOOK_INBOX_RETRY_MIN_MS: positiveInt.max(3_600_000).default(30_000),
  WEBHOOK_INBOX_RETRY_MAX_MS: positiveInt.max(24 * 3_600_000).default(30 * 60_000),
  /** How long a recorded event waits before it is first processed, so our own command's write for the same change lands first. */
  WEBHOOK_INBOX_FIRST_ATTEMPT_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** Processed and ignored inbox entries are deleted after this many days (failed ones stay); longer than Stripe's 3 days of retries. */
  WEBHOOK_INBOX_RETENTION_DAYS: positiveInt.min(4).max(3_650).default(30),
  /** How long a processor's claim on an event hides it from others; a dead processor's claim lapses after this. */
  WEBHOOK_INBOX_CLAIM_LEASE_MS: positiveInt.min(1_000).max(3_600_000).default(300_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PROJECTIONS_ENABLED: z.stringbool().default(true),
  PROJECTION_BATCH_SIZE: positiveInt.max(10_000).default(500),
  /** How often the real billing clock looks for due renewals, retries and expiries. */
  BILLING_TICK_MS: positiveInt.min(100).max(3_600_000).default(5_000),
  /** Days after the first failed charge of an invoice at which it is retried (Stripe's smart-retry default is close to 1,3,5). */
  BILLING_RETRY_SCHEDULE_DAYS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter((x) => x !== '') : v),
    z.array(z.coerce.number().int().min(1).max(60)).max(10).refine((days) => days.every((d, i) => i === 0 || d > (days[i - 1] as number)), 'must be increasing'),
  ).default([1, 3, 5]),
  /** What spent dunning does to the subscription. */
  BILLING_AFTER_DUNNING: z.enum(['cancel', 'mark_unpaid']).default('cancel'),
  /**
   * How old a pending payment request (intent first) must be before the completer asks the
   * processor in its place. Longer than a command can take (HTTP_REQUEST_TIMEOUT_MS, and
   * STRIPE_TIMEOUT_MS times its retries), so it does not race the command still finishing it.
   */
  PAYMENT_INTENT_GRACE_MS: positiveInt.min(1_000).max(86_400_000).default(120_000),
  HTTP_BODY_LIMIT_BYTES: positiveInt.max(10 * 1024 * 1024).default(64 * 1024),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
  SHUTDOWN_GRACE_MS: positiveInt.max(120_000).default(10_000),
  REALTIME_RETENTION_HOURS: positiveInt.max(24 * 365).default(24 * 7),
  /** HS256 secret, at least 32 bytes. Verifies tokens; `ledger token create` signs with it. */
  AUTH_JWT_SECRET: optionalString,
  /** PEM (SPKI) RSA or P-256 public key: verifies RS256 or ES256 tokens. */
  AUTH_JWT_PUBLIC_KEY_FILE: optionalString,
  /** A local JWKS JSON file (not a URL): verifies RS256/ES256 tokens, selected by `kid`. */
  AUTH_JWKS_FILE: optionalString,
  /** PEM (PKCS#8) private key for `ledger token create` only; the service never reads it. */
  AUTH_JWT_PRIVATE_KEY_FILE: optionalString,
  /** When set, tokens must carry this `iss` (and minted tokens get it). */
  AUTH_JWT_ISSUER: optionalString,
  /** When set, tokens must carry this `aud` (and minted tokens get it). */
  AUTH_JWT_AUDIENCE: optionalString,
  /** HMAC key for stored API key hashes. Changing it invalidates every existing key. */
  AUTH_API_KEY_PEPPER: optionalString,
  /** Origins allowed to call cross-origin, comma-separated; empty means none. */
  CORS_ORIGINS: commaList.default([]),
  /** Requests per minute per credential. */
  RATE_LIMIT_PER_MINUTE: positiveInt.max(1_000_000).default(600),
  /** `memory` counts per instance; `postgres` shares the count across instances. */
  RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),
  /** `admin`: GET /metrics needs a token with the admin scope. */
  METRICS_AUTH: z.enum(['none', 'admin']).default('none'),
  // Behind a load balancer: how many proxy hops to trust for the client address (rate limits by address).
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Failed or missing credentials allowed per client address per minute (bounds key guessing). */
  RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: positiveInt.max(1_000_000).default(30),
  // ---- outbound webhooks (README, "Webhooks") ----
  /** Lets webhook URLs reach loopback, private and link-local addresses (local receivers, tests). Refused in production. */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.stringbool().default(false),
  /** Deadline of one delivery POST (connect, request, response). */
  WEBHOOK_TIMEOUT_MS: positiveInt.min(100).max(60_000).default(10_000),
  /** Deliveries in flight at once per instance, across endpoints (each endpoint gets one at a time, in order). */
  WEBHOOK_CONCURRENCY: positiveInt.max(256).default(16),
  /** Finished deliveries (succeeded or given up) and their attempt logs are deleted after this many days; longer than the 3-day retry window. */
  WEBHOOK_DELIVERY_RETENTION_DAYS: positiveInt.min(4).max(3_650).default(30),
}).superRefine((c, ctx) => {
  if (c.NODE_ENV === 'production' && c.WEBHOOK_ALLOW_PRIVATE_URLS) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_ALLOW_PRIVATE_URLS'], message: 'would let merchants\' webhook URLs reach internal addresses; it is refused with NODE_ENV=production' });
  }
  if (c.EVENT_STORE === 'eventstoredb' && !c.EVENTSTORE_URL) {
    ctx.addIssue({ code: 'custom', path: ['EVENTSTORE_URL'], message: 'required when EVENT_STORE=eventstoredb (e.g. esdb://localhost:2113?tls=false)' });
  }
  if (c.PAYMENT_PROVIDER === 'stripe') {
    const key = c.STRIPE_SECRET_KEY;
    if (key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_SECRET_KEY'], message: 'required when PAYMENT_PROVIDER=stripe (a secret key, sk_test_… outside production)' });
    } else if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(key)) {
      // The message never echoes the value: it is a secret, and this line goes to logs.
      ctx.addIssue({ code: 'custom', path: ['STRIPE_SECRET_KEY'], message: 'is not a Stripe secret key (expected sk_test_…, rk_test_…, or a live key in production)' });
    } else if (/^(sk|rk)_live_/.test(key) && c.NODE_ENV !== 'production') {
      ctx.addIssue({ code: 'custom', path: ['STRIPE_SECRET_KEY'], message: `is a live key; it moves real money and is refused unless NODE_ENV=production (NODE_ENV=${c.NODE_ENV})` });
    }
  }
  const notWebhookSecrets = c.STRIPE_WEBHOOK_SECRET.filter((secret) => !/^whsec_[A-Za-z0-9+/=_-]+$/.test(secret));
  if (notWebhookSecrets.length > 0) {
    // Never echoed: a pasted API key would end up in the logs.
    ctx.addIssue({ code: 'custom', path: ['STRIPE_WEBHOOK_SECRET'], message: `${notWebhookSecrets.length} of its entries are not webhook signing secrets (whsec_…)` });
  }
  if (c.WEBHOOK_INBOX_RETRY_MAX_MS < c.WEBHOOK_INBOX_RETRY_MIN_MS) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_INBOX_RETRY_MAX_MS'], message: 'must be at least WEBHOOK_INBOX_RETRY_MIN_MS' });
  }
  if (c.AUTH_JWT_SECRET !== undefined && Buffer.byteLength(c.AUTH_JWT_SECRET, 'utf8') < MIN_JWT_SECRET_BYTES) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: `must be at least ${MIN_JWT_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 48\`)` });
  }
  if (c.AUTH_JWT_PUBLIC_KEY_FILE !== undefined && c.AUTH_JWKS_FILE !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_FILE'], message: 'set AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE, not both' });
  }
  if (c.NODE_ENV === 'production') {
    if (c.AUTH_JWT_SECRET === undefined && c.AUTH_JWT_PUBLIC_KEY_FILE === undefined && c.AUTH_JWKS_FILE === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'NODE_ENV=production needs a real token key: set AUTH_JWT_SECRET (≥ 32 random bytes), AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE',
      });
    }
    if (c.AUTH_JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'is the public development secret; NODE_ENV=production needs a secret of its own' });
    }
    if (c.AUTH_API_KEY_PEPPER === DEVELOPMENT_API_KEY_PEPPER) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_API_KEY_PEPPER'], message: 'is the public development pepper; NODE_ENV=production needs one of its own, or none' });
    }
  }
  // The development secret is published: anyone can mint an admin token with it. Fine on
  // a developer's loopback interface, never on an address others can reach.
  const usesDevelopmentSecret = c.AUTH_JWT_SECRET === undefined && c.AUTH_JWT_PUBLIC_KEY_FILE === undefined && c.AUTH_JWKS_FILE === undefined;
  if (c.NODE_ENV !== 'production' && usesDevelopmentSecret && c.HOST !== undefined && !isLoopback(c.HOST)) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_JWT_SECRET'],
      message: `HOST=${c.HOST} is reachable from other machines, and without AUTH_JWT_SECRET (or a key file) tokens would be checked against the public development secret; set one, or listen on 127.0.0.1`,
    });
  }
}).transform((c) => ({ ...c, HOST: c.HOST ?? (c.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1') }));

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

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

/**
 * The HS256 secret tokens are verified (and minted) with: AUTH_JWT_SECRET when set; none
 * when only a public key or JWKS is configured (asymmetric tokens only); otherwise, outside
 * production, the development secret. Production without any key never gets here:
 * loadConfig refuses it. The caller logs the warning when `isDevelopmentDefault`.
 */
export function jwtSecretFrom(config: Config): { readonly secret: string | null; readonly isDevelopmentDefault: boolean } {
  if (config.AUTH_JWT_SECRET !== undefined) return { secret: config.AUTH_JWT_SECRET, isDevelopmentDefault: false };
  if (config.AUTH_JWT_PUBLIC_KEY_FILE !== undefined || config.AUTH_JWKS_FILE !== undefined) return { secret: null, isDevelopmentDefault: false };
  if (config.NODE_ENV === 'production') throw new ConfigError('NODE_ENV=production needs AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_FILE');
  return { secret: DEVELOPMENT_JWT_SECRET, isDevelopmentDefault: true };
}

/**
 * The API key pepper: AUTH_API_KEY_PEPPER when set; in production without one, none (the
 * 256-bit random secrets are safe to store as a plain SHA-256); elsewhere the development
 * pepper, so that development keys never verify against a production database.
 */
export function apiKeyPepperFrom(config: Config): { readonly pepper: string | null; readonly isDevelopmentDefault: boolean } {
  if (config.AUTH_API_KEY_PEPPER !== undefined) return { pepper: config.AUTH_API_KEY_PEPPER, isDevelopmentDefault: false };
  if (config.NODE_ENV === 'production') return { pepper: null, isDevelopmentDefault: false };
  return { pepper: DEVELOPMENT_API_KEY_PEPPER, isDevelopmentDefault: true };
}

export type DevelopmentDefaultSetting = 'AUTH_JWT_SECRET' | 'AUTH_API_KEY_PEPPER';

/**
 * The warning every process that runs on a development default prints, once; null when
 * none of `settings` fell back to one. Names the settings, never their values.
 */
export function developmentDefaultsWarning(
  config: Config,
  settings: readonly DevelopmentDefaultSetting[] = ['AUTH_JWT_SECRET', 'AUTH_API_KEY_PEPPER'],
): string | null {
  const defaults = settings.filter((s) => (s === 'AUTH_JWT_SECRET' ? jwtSecretFrom(config) : apiKeyPepperFrom(config)).isDevelopmentDefault);
  if (defaults.length === 0) return null;
  const consequence = defaults.includes('AUTH_JWT_SECRET') ? ' Anyone can mint valid tokens.' : '';
  return `INSECURE: ${defaults.join(' and ')} not set; using the public development default${defaults.length > 1 ? 's' : ''}.${consequence} `
    + 'Never run like this outside a developer machine (NODE_ENV=production refuses to).';
}
