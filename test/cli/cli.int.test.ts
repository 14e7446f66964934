import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/infrastructure/postgres/event-store/postgres-event-store.js';
import { appendMany } from '../projections/support/in-memory-event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/pg.js';
import { CLI_TIMEOUT_MS, NO_DATABASE, ROOT, ledger } from './run-ledger.js';

const SEEDED_EVENTS = 3_000;
const EVERY_COMMAND = [
  [],
  ['serve'],
  ['migrate'],
  ['projections'],
  ['projections', 'status'],
  ['projections', 'rebuild'],
  ['projections', 'audit'],
  ['token'],
  ['token', 'create'],
  ['keys'],
  ['keys', 'create'],
  ['keys', 'list'],
  ['keys', 'revoke'],
];
const GROUPS = [[], ['projections'], ['token'], ['keys']];
const STACK_FRAME = /^\s+at /m;

let db: TestDatabase;
let eventStore: PostgresEventStore;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('cli');
  env = { DATABASE_URL: db.url };
  // Through the CLI, so that it is tested too: the schema the seeding below needs.
  const migrated = await ledger(['migrate'], env);
  expect(migrated).toMatchObject({ code: 0, stdout: 'schema is up to date\n' });
  eventStore = new PostgresEventStore(db.pool);
  await appendMany(eventStore, SEEDED_EVENTS, 'Seeded', 500);
}, CLI_TIMEOUT_MS);

afterAll(async () => {
  await eventStore?.close();
  await db?.drop();
});

describe('ledger help and version', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    expect(await ledger(['--version'], { DATABASE_URL: NO_DATABASE })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('every command and subcommand has --help: its usage on stdout, exit 0, no database needed', { timeout: CLI_TIMEOUT_MS }, async () => {
    const runs = await Promise.all(EVERY_COMMAND.map((path) => ledger([...path, '--help'], { DATABASE_URL: NO_DATABASE })));
    for (const [i, run] of runs.entries()) {
      const path = ['ledger', ...EVERY_COMMAND[i]!].join(' ');
      expect({ code: run.code, stderr: run.stderr }, path).toEqual({ code: 0, stderr: '' });
      expect(run.stdout, path).toMatch(new RegExp(`^Usage: ${path} `));
    }
    expect(runs[8]!.stdout).toMatch(/--scope <scopes>[\s\S]*--customer <id>[\s\S]*--ttl <duration>[\s\S]*--sub <name>/);
  });

  it('a command group given no command prints its usage on stderr and exits 1', { timeout: CLI_TIMEOUT_MS }, async () => {
    const runs = await Promise.all(GROUPS.map((path) => ledger(path, { DATABASE_URL: NO_DATABASE })));
    for (const [i, run] of runs.entries()) {
      const path = ['ledger', ...GROUPS[i]!].join(' ');
      expect({ code: run.code, stdout: run.stdout }, path).toEqual({ code: 1, stdout: '' });
      expect(run.stderr, path).toMatch(new RegExp(`^Usage: ${path} \\[options\\] \\[command\\]\\n`));
    }
    expect(runs[3]!.stderr).toMatch(/create \[options\][\s\S]*list \[options\][\s\S]*revoke <id>/);
  });
});

describe('ledger errors', () => {
  it('bad arguments exit 2 with one line naming the command and pointing at its help', { timeout: CLI_TIMEOUT_MS }, async () => {
    const cases: [string[], string][] = [
      [['frobnicate'], "ledger: unknown command 'frobnicate' (see 'ledger --help')"],
      [['projections', 'statsu'], "ledger projections: unknown command 'statsu' (Did you mean status?) (see 'ledger projections --help')"],
      [['projections', 'rebuild'], "ledger projections rebuild: missing required argument 'name' (see 'ledger projections rebuild --help')"],
      [['keys', 'revoke', 'a', 'b'], "ledger keys revoke: too many arguments for 'revoke'. Expected 1 argument but got 2. (see 'ledger keys revoke --help')"],
      [['keys', 'list', '--bogus'], "ledger keys list: unknown option '--bogus' (see 'ledger keys list --help')"],
    ];
    const runs = await Promise.all(cases.map(([args]) => ledger(args, { DATABASE_URL: NO_DATABASE })));
    for (const [i, run] of runs.entries()) expect(run, cases[i]![0].join(' ')).toEqual({ code: 2, stdout: '', stderr: `${cases[i]![1]}\n` });
  });

  it('an unknown projection lists the known ones and exits 2', { timeout: CLI_TIMEOUT_MS }, async () => {
    const [rebuild, audit] = await Promise.all([ledger(['projections', 'rebuild', 'nope'], env), ledger(['projections', 'audit', 'nope'], env)]);
    expect(rebuild).toEqual({ code: 2, stdout: '', stderr: `ledger projections rebuild: unknown projection "nope"; known: payments, refunds, refund_work, ledger, reports, activity_realtime, billing, subscription_metrics, payment_intents, disputes, activity (see 'ledger projections rebuild --help')\n` });
    expect(audit).toMatchObject({ code: 2, stdout: '' });
    expect(audit.stderr).toContain('unknown projection "nope"; known: payments, refunds, refund_work, ledger, reports, activity_realtime, billing, subscription_metrics, payment_intents, disputes (see');
  });

  it('a failure is one line on stderr without a stack trace; --verbose adds the stack of an unexpected one', { timeout: CLI_TIMEOUT_MS }, async () => {
    // Nothing listens on port 1: the database (an operator's error) and EventStoreDB (here, unexpected) both fail.
    const eventStoreDown = { ...env, EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' };
    const [noDatabase, unexpected, verbose] = await Promise.all([
      ledger(['keys', 'list'], { DATABASE_URL: NO_DATABASE }),
      ledger(['projections', 'status'], eventStoreDown),
      ledger(['projections', 'status', '--verbose'], eventStoreDown),
    ]);
    expect(noDatabase).toMatchObject({ code: 1, stdout: '' });
    expect(noDatabase.stderr).toMatch(/^ledger: PostgreSQL is not reachable at 127\.0\.0\.1:1\/none [^\n]*\n$/);
    expect(unexpected).toMatchObject({ code: 1, stdout: '' });
    expect(unexpected.stderr).toMatch(/^ledger: [^\n]*ECONNREFUSED[^\n]* \(unexpected: run with --verbose for the stack trace\)\n$/);
    expect(unexpected.stderr).not.toMatch(STACK_FRAME);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(STACK_FRAME);
  });
});

describe('ledger projections rebuild and audit, piped', () => {
  it('show progress lines with done/total, percent, rate and ETA on stderr, a summary, and JSON on stdout', { timeout: CLI_TIMEOUT_MS }, async () => {
    for (const [mode, finishing, verb] of [['rebuild', 'switching', 'rebuilt'], ['audit', 'comparing', 'audited']] as const) {
      const { rows } = await db.pool.query<{ count: string }>('SELECT count(*)::text AS count FROM events');
      const total = Number(rows[0]!.count);
      expect(total).toBeGreaterThanOrEqual(SEEDED_EVENTS);
      const run = await ledger(['projections', mode, 'payments'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ name: 'payments', processed: total });

      const lines = run.stderr.split('\n');
      const all = total.toLocaleString('en-US');
      expect(run.stderr).not.toContain('\r');
      expect(lines[0]).toBe(`payments: replaying 0/${all} events (0.0%)`);
      // Each line stands alone; the last phase starts with everything replayed.
      for (const line of lines.slice(1, -2)) expect(line, mode).toMatch(/^payments: (replaying|switching|comparing) [\d,]+\/[\d,]+ events \(\d+\.\d%\)(, [\d,]+ ev\/s, ETA [\dhms.]+)?$/);
      // A rate (and so an ETA) only once there is enough elapsed time to measure one.
      expect(lines.at(-3)).toMatch(new RegExp(`^payments: ${finishing} ${all}/${all} events \\(100\\.0%\\)(, [\\d,]+ ev/s, ETA 0\\.0s)?$`));
      expect(lines.at(-2)).toMatch(new RegExp(`^payments: ${verb} ${all} events in [\\d.]+s, [\\d,]+ ev/s$`));
      expect(lines.at(-1)).toBe('');
    }
  });
});
