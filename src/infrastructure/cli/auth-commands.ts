import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { Scope } from '../../application/auth/principal.js';
import { SCOPES, isScope } from '../../application/auth/principal.js';
import { isCustomerId } from '../../domain/ids.js';
import type { ApiKeySummary } from '../auth/api-keys.js';
import { jwtIssuerFromConfig } from '../auth/jwt-issuer.js';
import { MAX_TOKEN_LIFETIME_SECONDS, checkGrant, isValidSubject } from '../auth/jwt-policy.js';
import { developmentDefaultsWarning } from '../config/config.js';
import { TOKENS } from '../container/tokens.js';
import { cliActor, cliUser } from './cli-actor.js';
import type { CommandDeps } from './command-deps.js';
import { EXIT_FAILED, EXIT_OK, UsageError, act, collect } from './exit.js';
import { parseDurationSeconds } from './duration.js';

const SCOPE_HELP = `comma-separated, repeatable; of: ${SCOPES.join(', ')}`;

interface GrantOptions {
  readonly scope: readonly string[];
  readonly customer?: string;
}

/** The result a script wants (the token, the key, the list): the only thing on stdout. */
const out = (text: string): void => void process.stdout.write(`${text}\n`);
/** Everything meant for a person. */
const say = (text: string): void => void process.stderr.write(`${text}\n`);

/** `ledger token create`: bad arguments exit 2, a refused operation 1. */
export function tokenCommand(deps: CommandDeps): Command {
  const token = new Command('token').description('mint bearer tokens (JWT)');
  token
    .command('create')
    .description('print a signed bearer token (JWT) on stdout; needs no database')
    .requiredOption('--scope <scopes>', SCOPE_HELP, collect)
    .option('--customer <id>', 'limit the token to this customer')
    .option('--ttl <duration>', `lifetime such as 90s, 15m, 1h or 7d (at most ${MAX_TOKEN_LIFETIME_SECONDS / 86_400}d)`, '1h')
    .option('--sub <name>', 'the subject the token names (default: your OS user)')
    .action(act(async (options: GrantOptions & { ttl: string; sub?: string }) => {
      const scopes = scopesOf(options.scope);
      const customerId = customerOf(options.customer, scopes);
      const ttlSeconds = ttlOf(options.ttl);
      const sub = options.sub ?? cliUser();
      if (!isValidSubject(sub)) throw new UsageError('--sub must be 1-200 printable characters without spaces');
      // Only now the configuration: bad arguments are reported whatever the environment.
      const config = deps.loadConfig();
      const issuer = jwtIssuerFromConfig(config);
      if (!issuer.ok) {
        say(`ledger: cannot mint tokens: ${issuer.message}`);
        return EXIT_FAILED;
      }
      if (issuer.isDevelopmentDefault) say(`WARNING: ${developmentDefaultsWarning(config, ['AUTH_JWT_SECRET']) ?? 'development secret in use'}`);
      const minted = await issuer.issuer.mint({ sub, scopes, customerId, ttlSeconds, now: new Date() });
      if (!minted.ok) throw new UsageError(minted.error.message);
      out(minted.value);
      return EXIT_OK;
    }));
  return token;
}

/** `ledger keys create|list|revoke`: bad arguments exit 2, a refused operation 1. */
export function keysCommand(deps: CommandDeps): Command {
  const keys = new Command('keys').description('create, list and revoke API keys (needs the database)');
  keys
    .command('create')
    .description('create an API key and print it on stdout: it is shown only once')
    .requiredOption('--scope <scopes>', SCOPE_HELP, collect)
    .option('--customer <id>', 'limit the key to this customer')
    .option('--name <label>', 'a label to recognise it by')
    .option('--json', 'print the key and its details as JSON', false)
    .action(act(async (options: GrantOptions & { name?: string; json: boolean }) => {
      const scopes = scopesOf(options.scope);
      const customerId = customerOf(options.customer, scopes);
      const config = deps.loadConfig();
      const warning = developmentDefaultsWarning(config, ['AUTH_API_KEY_PEPPER']);
      if (warning !== null) say(`WARNING: ${warning} This key verifies only where the same default is in use.`);
      const created = await deps.withContainer(config, (c) =>
        c.get(TOKENS.ApiKeys).create({ scopes, customerId, name: options.name, actor: cliActor(), correlationId: randomUUID() }));
      if (!created.ok) throw new UsageError(created.error.message);
      const k = created.value;
      out(options.json ? JSON.stringify({ ...k, createdAt: k.createdAt.toISOString() }, null, 2) : k.key);
      say(`created API key ${k.id} (scopes: ${k.scopes.join(',')}${k.customerId ? `; customer: ${k.customerId}` : ''}). `
        + 'This is the only time the key is shown: store it now.');
      return EXIT_OK;
    }));
  keys
    .command('list')
    .description('every API key with its state (never a secret)')
    .option('--json', 'print JSON', false)
    .action(act(async (options: { json: boolean }) => {
      const list = await deps.withContainer(deps.loadConfig(), (c) => c.get(TOKENS.ApiKeys).list());
      out(options.json ? JSON.stringify(list, null, 2) : table(list));
      return EXIT_OK;
    }));
  keys
    .command('revoke')
    .description('revoke an API key (other instances stop accepting it within 30 s)')
    .argument('<id>', 'the key id, as `keys list` shows it')
    .action(act(async (id: string) => {
      const revoked = await deps.withContainer(deps.loadConfig(), (c) => c.get(TOKENS.ApiKeys).revoke(id, cliActor(), randomUUID()));
      if (revoked.ok) {
        out(`revoked ${id}`);
        say('This instance refuses it now; running services stop accepting it within 30 seconds.');
        return EXIT_OK;
      }
      if (revoked.error.code === 'already_revoked') {
        // The state the operator asked for holds: not a failure.
        say(`${id} was already revoked at ${revoked.error.revokedAt.toISOString()} by ${revoked.error.revokedBy}`);
        return EXIT_OK;
      }
      say(`no API key with id ${id}`);
      return EXIT_FAILED;
    }));
  return keys;
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

function ttlOf(value: string): number {
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
