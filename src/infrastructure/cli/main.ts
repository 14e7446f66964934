import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { buildContainer } from '../container/composition-root.js';
import { TOKENS } from '../container/tokens.js';
import type { Logger } from '../logging/logger.js';
import { createLogger } from '../logging/logger.js';
import { DatabaseUnavailable } from '../postgres/pool.js';
import { DependencyUnavailable, prepareDatabase, registerProjections, startService } from '../service.js';
import { AUTH_USAGE, runAuthCommand } from './auth-commands.js';
import { cliActor } from './cli-actor.js';
import { printStatuses, rebuildWithProgress } from './projection-commands.js';

const USAGE = `Usage: ledger <command>

Commands:
  serve                         run the HTTP API, Socket.IO and the projections
  migrate                       create the database if missing and apply the schema
  projections status [--json]   name, version, status, checkpoint and lag of every projection
  projections rebuild <name>    replay <name> from the start into fresh tables, then switch
  projections audit <name>      replay <name> into scratch tables and compare with the live ones
${AUTH_USAGE}
  help                          this text

Configuration comes from the environment; see README.md.`;

/** Errors an operator can act on get one line; anything else is a bug and gets its stack. */
function explain(error: unknown): string {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailable || error instanceof DependencyUnavailable) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function serve(config: Config, logger: Logger): Promise<void> {
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

async function withContainer<T>(config: Config, logger: Logger, work: (c: ReturnType<typeof buildContainer>) => Promise<T>): Promise<T> {
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

async function main(argv: readonly string[]): Promise<number> {
  // These parse their own options (--scope, --ttl, …), and `token create` must work
  // without a database, so they branch off before anything else is set up.
  if (argv[0] === 'token' || argv[0] === 'keys') {
    return runAuthCommand(argv, {
      loadConfig: () => loadConfig(),
      withContainer: (config, work) => withContainer(config, createLogger({ level: 'warn', destination: process.stderr }), work),
    });
  }
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command, sub, name] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = loadConfig();
  // Commands other than serve talk to a terminal: logs to stderr, quieter.
  const logger = createLogger({ level: command === 'serve' ? config.LOG_LEVEL : 'warn', ...(command === 'serve' ? {} : { destination: process.stderr }) });

  switch (command) {
    case 'serve':
      await serve(config, logger);
      return -1;
    case 'migrate':
      return withContainer(config, createLogger({ level: 'info', destination: process.stderr }), async (c) => {
        await registerProjections(c);
        console.log('schema is up to date');
        return 0;
      });
    case 'projections': {
      if (sub === 'status') return withContainer(config, logger, (c) => printStatuses(c, values.json));
      if ((sub === 'rebuild' || sub === 'audit') && name) return withContainer(config, logger, (c) => rebuildWithProgress(c, sub, name, cliActor()));
      console.error(USAGE);
      return 2;
    }
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // serve keeps running; everything else exits with its code.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`ledger: ${explain(error)}`);
    process.exitCode = 1;
  },
);
