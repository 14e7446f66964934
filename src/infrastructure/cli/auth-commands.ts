import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Container } from 'inversify';
import type { Scope } from '../../application/auth/principal.js';
import { SCOPES, isScope } from '../../application/auth/principal.js';
import { isCustomerId } from '../../domain/ids.js';
import type { ApiKeySummary } from '../auth/api-keys.js';
import { jwtIssuerFromConfig } from '../auth/jwt-issuer.js';
import { MAX_TOKEN_LIFETIME_SECONDS, checkGrant, isValidSubject } from '../auth/jwt-policy.js';
import type { Config } from '../config/config.js';
import { developmentDefaultsWarning } from '../config/config.js';
import { TOKENS } from '../container/tokens.js';
import { cliActor, cliUser } from './cli-actor.js';
import { parseDurationSeconds } from './duration.js';

export const AUTH_USAGE = `  token create --scope <scopes> [--customer <id>] [--ttl 1h] [--sub <name>]
                                print a signed bearer token (JWT) on stdout; needs no database
  keys create --scope <scopes> [--customer <id>] [--name <label>] [--json]
                                create an API key and print it on stdout: it is shown only once
  keys list [--json]            every API key with its state (never a secret)
  keys revoke <id>              revoke an API key (other instances within 30 s)

  <scopes> is a comma-separated list of: ${SCOPES.join(', ')}`;

const DEFAULT_TTL_SECONDS = 3_600;

export interface AuthCommandDeps {
  readonly loadConfig: () => Config;
  /** Connects to the database (applying the schema) and builds the container around `work`. */
  readonly withContainer: <T>(config: Config, work: (c: Container) => Promise<T>) => Promise<T>;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly now?: () => Date;
}

class UsageError extends Error {}

/**
 * `ledger token …` and `ledger keys …`. Stdout carries only the result a script wants (the
 * token, the key, the list); everything meant for a person goes to stderr. Bad arguments
 * exit 2, a refused operation 1.
 */
export async function runAuthCommand(argv: readonly string[], deps: AuthCommandDeps): Promise<number> {
  const out = deps.stdout ?? ((text: string) => void process.stdout.write(`${text}\n`));
  const say = deps.stderr ?? ((text: string) => void process.stderr.write(`${text}\n`));
  try {
    return await dispatch(argv, deps, out, say);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`${error.message}\n\nUsage:\n${AUTH_USAGE}`);
    return 2;
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        scope: { type: 'string', multiple: true },
        customer: { type: 'string' },
        ttl: { type: 'string' },
        sub: { type: 'string' },
        name: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function dispatch(argv: readonly string[], deps: AuthCommandDeps, out: (t: string) => void, say: (t: string) => void): Promise<number> {
  const { positionals, values } = parse(argv);
  const [group, action, id, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  const now = deps.now?.() ?? new Date();

  if (group === 'token' && action === 'create' && id === undefined) {
    const scopes = scopesOf(values.scope);
    const customerId = customerOf(values.customer, scopes);
    const ttlSeconds = ttlOf(values.ttl);
    const sub = values.sub ?? cliUser();
    if (!isValidSubject(sub)) throw new UsageError('--sub must be 1-200 printable characters without spaces');
    // Only now the configuration: bad arguments are reported whatever the environment.
    const config = deps.loadConfig();
    const issuer = jwtIssuerFromConfig(config);
    if (!issuer.ok) {
      say(`ledger: cannot mint tokens: ${issuer.message}`);
      return 1;
    }
    if (issuer.isDevelopmentDefault) say(`WARNING: ${developmentDefaultsWarning(config, ['AUTH_JWT_SECRET']) ?? 'development secret in use'}`);
    const minted = await issuer.issuer.mint({ sub, scopes, customerId, ttlSeconds, now });
    if (!minted.ok) throw new UsageError(minted.error.message);
    out(minted.value);
    return 0;
  }

  if (group === 'keys' && action === 'create' && id === undefined) {
    const scopes = scopesOf(values.scope);
    const customerId = customerOf(values.customer, scopes);
    const config = deps.loadConfig();
    const warning = developmentDefaultsWarning(config, ['AUTH_API_KEY_PEPPER']);
    if (warning !== null) say(`WARNING: ${warning} This key verifies only where the same default is in use.`);
    const created = await deps.withContainer(config, (c) =>
      c.get(TOKENS.ApiKeys).create({ scopes, customerId, name: values.name, actor: cliActor(), correlationId: randomUUID() }));
    if (!created.ok) throw new UsageError(created.error.message);
    const k = created.value;
    if (values.json) {
      out(JSON.stringify({ ...k, createdAt: k.createdAt.toISOString() }, null, 2));
    } else {
      out(k.key);
    }
    say(`created API key ${k.id} (scopes: ${k.scopes.join(',')}${k.customerId ? `; customer: ${k.customerId}` : ''}). `
      + 'This is the only time the key is shown: store it now.');
    return 0;
  }

  if (group === 'keys' && action === 'list' && id === undefined) {
    const keys = await deps.withContainer(deps.loadConfig(), (c) => c.get(TOKENS.ApiKeys).list());
    out(values.json ? JSON.stringify(keys, null, 2) : table(keys));
    return 0;
  }

  if (group === 'keys' && action === 'revoke' && id !== undefined) {
    const revoked = await deps.withContainer(deps.loadConfig(), (c) => c.get(TOKENS.ApiKeys).revoke(id, cliActor(), randomUUID()));
    if (revoked.ok) {
      out(`revoked ${id}`);
      say('This instance refuses it now; running services stop accepting it within 30 seconds.');
      return 0;
    }
    if (revoked.error.code === 'already_revoked') {
      // The state the operator asked for holds: not a failure.
      say(`${id} was already revoked at ${revoked.error.revokedAt.toISOString()} by ${revoked.error.revokedBy}`);
      return 0;
    }
    say(`no API key with id ${id}`);
    return 1;
  }

  throw new UsageError(`unknown command: ${[group, action].filter((p) => p !== undefined).join(' ')}`);
}

function scopesOf(values: readonly string[] | undefined): Scope[] {
  const names = (values ?? []).flatMap((v) => v.split(/[,\s]+/)).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--scope is required');
  const unknown = names.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new UsageError(`unknown scope: ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  return [...new Set(names.filter(isScope))];
}

/** The customer, checked against the scopes: admin cannot be limited to one customer. */
function customerOf(value: string | undefined, scopes: readonly Scope[]): string | null {
  if (value === undefined) return null;
  if (!isCustomerId(value)) throw new UsageError('--customer must be 1-64 characters of A-Z a-z 0-9 _ - .');
  const problem = checkGrant(new Set(scopes), value);
  if (problem !== null) throw new UsageError(problem);
  return value;
}

function ttlOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TTL_SECONDS;
  const seconds = parseDurationSeconds(value);
  if (seconds === null) throw new UsageError('--ttl must be a duration such as 90s, 15m, 1h or 7d');
  if (seconds > MAX_TOKEN_LIFETIME_SECONDS) throw new UsageError(`--ttl may be at most ${MAX_TOKEN_LIFETIME_SECONDS / 86_400}d; use an API key for long-lived access`);
  return seconds;
}

const dash = (d: Date | null | undefined): string => (d ? d.toISOString() : '-');

function table(keys: readonly ApiKeySummary[]): string {
  const rows = [['ID', 'NAME', 'SCOPES', 'CUSTOMER', 'CREATED', 'CREATED BY', 'LAST USED', 'REVOKED']];
  for (const k of keys) {
    rows.push([
      k.id,
      k.name || '-',
      k.scopes.join(','),
      k.customerId ?? '-',
      dash(k.createdAt),
      k.createdBy,
      dash(k.lastUsedAt),
      k.revokedAt ? `${k.revokedAt.toISOString()} by ${k.revokedBy ?? '?'}` : '-',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
