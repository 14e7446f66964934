import type { Command } from 'commander';

/** Done (also `--help` and `--version`). */
export const EXIT_OK = 0;
/** The work failed or was refused, or a command group was given no command (its usage is printed). */
export const EXIT_FAILED = 1;
/** Bad arguments: unknown command or option, a missing or invalid value, an unknown projection. */
export const EXIT_USAGE = 2;

/** Arguments that parsed but make no sense (an unknown scope, a too long --ttl): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Ends the run with `code`, after `line` (if any) is written to stderr. */
export class CliExit extends Error {
  override readonly name = 'CliExit';

  constructor(
    readonly code: number,
    readonly line: string | null = null,
  ) {
    super(line ?? `exit ${code}`);
  }
}

/** An action that answers with an exit code, as commander's action (which ignores return values). */
export function act<A extends unknown[]>(work: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    const code = await work(...args);
    if (code !== EXIT_OK) throw new CliExit(code);
  };
}

/** Collects a repeatable option's values (`--scope a --scope b`). */
export const collect = (value: string, previous: readonly string[] | undefined): string[] => [...(previous ?? []), value];

/** One line, whatever the message held: terminals and log collectors read lines. */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

// Deeper than any command tree here; a parent chain longer than this is a cycle.
const MAX_COMMAND_DEPTH = 8;

/** `ledger keys create` for the `create` under `keys`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  let at: Command | null = command;
  for (let depth = 0; at !== null && depth < MAX_COMMAND_DEPTH; depth++) {
    names.unshift(at.name());
    at = at.parent;
  }
  return names.join(' ');
}

/** The one line for an argument error of `command`, pointing at its help. */
export const usageLine = (command: Command, message: string): string => {
  const path = commandPath(command);
  return `${path}: ${oneLine(message.replace(/^error: /, ''))} (see '${path} --help')`;
};

const HELP_CODES = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

/**
 * Makes `command` and everything under it report through exceptions instead of exiting
 * the process: help and version keep commander's code (0, or 1 for a group run bare), every
 * parse error becomes one line and exit 2. Commander's own error printing is silenced,
 * because its messages can span lines.
 */
export function reportThroughExceptions(command: Command): void {
  command.configureOutput({ outputError: () => undefined });
  command.exitOverride((error) => {
    throw HELP_CODES.has(error.code) ? new CliExit(error.exitCode) : new CliExit(EXIT_USAGE, usageLine(command, error.message));
  });
  for (const sub of command.commands) reportThroughExceptions(sub);
}
