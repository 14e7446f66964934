import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Nothing listens there: a command that needed the database would fail.
export const NO_DATABASE = 'postgres://postgres@127.0.0.1:1/none';
// Each run starts node and compiles the sources through tsx: about 1 s on an idle machine,
// ten times that on 2 cores that eight test runs share.
export const CLI_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 45_000;
// The machine has 2 cores: more processes at once only make each one slower to start.
const MAX_CONCURRENT_RUNS = 3;

let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_RUNS) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `ledger <args>` as an operator runs it from a checkout (stdout and stderr are pipes), in
 * development, with a clean auth and database environment plus `env`.
 */
export function ledger(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AUTH_|DATABASE_URL$|NODE_ENV$|LEDGER_RUN_BUILT$|LOG_LEVEL$)/.test(k)));
  return slot(() => new Promise((resolve) => {
    execFile(process.execPath, ['bin/ledger.js', ...args], { cwd: ROOT, env: { ...base, NODE_ENV: 'development', ...env }, timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  }));
}
