import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { Container } from 'inversify';
import type { Config } from '../config/config.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { TOKENS } from '../container/tokens.js';
import type { Logger } from '../logging/logger.js';
import { createLogger } from '../logging/logger.js';
import { DatabaseUnavailable } from '../postgres/pool.js';
import { keysCommand, tokenCommand } from './auth-commands.js';
import type { CommandDeps } from './command-deps.js';
import { CliExit, EXIT_FAILED, EXIT_USAGE, UsageError, oneLine, reportThroughExceptions, usageLine } from './exit.js';
import { projectionsCommand } from './projection-commands.js';

// The service and the container load every adapter (EventStoreDB's gRPC client, express,
// socket.io): only the commands that use them import them, so that --help, --version and
// `token create` answer quickly.
const loadService = () => import('../service.js');
const loadCompositionRoot = () => import('../container/composition-root.js');

/** From src/infrastructure/cli and from dist/infrastructure/cli alike, three levels up. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

const HELP_FOOTER = `
Configuration comes from the environment (DATABASE_URL, EVENT_STORE, LOG_LEVEL, …); see README.md.
Results go to stdout; progress, warnings and errors to stderr (errors in one line).
Exit codes: 0 done; 1 failed or refused, or a command group given no command (its usage
goes to stderr); 2 bad arguments (unknown command, option or projection, bad value).`;

/** Errors an operator can act on are their message; anything else is a bug, said as one line too unless verbose. */
function explain(error: unknown, verbose: boolean): string {
  // DependencyUnavailable by name: its module is loaded only by the commands that can throw it.
  const operators = error instanceof ConfigError || error instanceof DatabaseUnavailable || (error instanceof Error && error.name === 'DependencyUnavailable');
  if (operators) return oneLine(error.message);
  if (verbose) return error instanceof Error ? (error.stack ?? error.message) : String(error);
  const message = error instanceof Error ? error.message : String(error);
  return `${oneLine(message)} (unexpected: run with --verbose for the stack trace)`;
}

async function serve(config: Config, logger: Logger): Promise<void> {
  const { startService } = await loadService();
  const service = await startService(config, logger);
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      logger.flush();
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => { logger.flush(); process.exitCode = 0; },
      (error: unknown) => { logger.error({ err: error }, 'shutdown failed'); logger.flush(); process.exitCode = 1; },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

async function withContainer<T>(config: Config, logger: Logger, work: (c: Container) => Promise<T>): Promise<T> {
  const [{ prepareDatabase }, { buildContainer }] = await Promise.all([loadService(), loadCompositionRoot()]);
  const pool = await prepareDatabase(config, logger);
  const container = buildContainer(config, logger, pool);
  try {
    return await work(container);
  } finally {
    await container.get(TOKENS.ProjectionStore).close();
    await container.get(TOKENS.EventStore).close();
    await pool.end();
  }
}

/** Commands other than serve talk to a terminal: logs to stderr, quieter. */
const terminalLogger = (level: 'info' | 'warn' = 'warn'): Logger => createLogger({ level, destination: process.stderr });

function buildProgram(): Command {
  const program = new Command('ledger')
    .description('Event-sourced CQRS payments ledger: serve the API, manage the schema, the read models and credentials.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--verbose', 'print the stack trace of an unexpected error (so does LOG_LEVEL=debug)')
    .addHelpText('after', HELP_FOOTER);
  const deps: CommandDeps = {
    loadConfig: () => loadConfig(),
    withContainer: <T>(config: Config, work: (c: Container) => Promise<T>) => withContainer(config, terminalLogger(), work),
  };
  program
    .command('serve')
    .description('run the HTTP API, Socket.IO and the projections (what npm start runs)')
    .action(async () => {
      const config = loadConfig();
      await serve(config, createLogger({ level: config.LOG_LEVEL }));
    });
  program
    .command('migrate')
    .description('create the database if missing and apply the schema')
    .action(async () => {
      await withContainer(loadConfig(), terminalLogger('info'), async (c) => {
        await (await loadService()).registerProjections(c);
        console.log('schema is up to date');
      });
    });
  program.addCommand(projectionsCommand(deps));
  program.addCommand(tokenCommand(deps));
  program.addCommand(keysCommand(deps));
  reportThroughExceptions(program);
  return program;
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/** A failure outside the command's own promise (an 'error' event nobody listens to) is one line too. */
function reportCrashesInOneLine(verbose: () => boolean): void {
  const crash = (error: unknown) => {
    console.error(`ledger: ${explain(error, verbose())}`);
    process.exit(EXIT_FAILED);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Runs the command; resolves to its exit code, or null while it keeps running (serve). */
async function main(argv: readonly string[]): Promise<number | null> {
  const program = buildProgram();
  // Which command's arguments a UsageError from an action is about.
  let running: Command = program;
  const verbose = () => program.opts<{ verbose?: boolean }>().verbose === true || DEBUG_LEVELS.has(process.env.LOG_LEVEL ?? '');
  program.hook('preAction', (_program, action) => {
    running = action;
    // serve's crashes keep Node's report (its stack), which the operator of a service needs.
    if (action.name() !== 'serve') reportCrashesInOneLine(verbose);
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return null;
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.line !== null) console.error(error.line);
      return error.code;
    }
    if (error instanceof UsageError) {
      console.error(usageLine(running, error.message));
      return EXIT_USAGE;
    }
    console.error(`ledger: ${explain(error, verbose())}`);
    return EXIT_FAILED;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running and sets its code when it stops; everything else ends here.
    if (code !== null) process.exitCode = code;
  },
  (error: unknown) => {
    // Only a bug in the error handling above gets here.
    console.error(`ledger: ${String(error)}`);
    process.exitCode = EXIT_FAILED;
  },
);
