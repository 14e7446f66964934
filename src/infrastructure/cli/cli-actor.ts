import { userInfo } from 'node:os';

/** The operating-system user running the CLI, fit to be recorded: printable, no spaces, bounded. */
export function cliUser(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers run as an arbitrary uid).
    name = process.env.USER ?? process.env.LOGNAME;
  }
  const clean = (name ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, 64);
  return clean === '' ? `uid-${process.getuid?.() ?? 'unknown'}` : clean;
}

/** The actor of administrative actions taken from the CLI, recorded in audit events. */
export const cliActor = (): string => `cli:${cliUser()}`;
