import { spawn } from 'node:child_process';
import { LEDGER_BIN } from './auth.js';
import type { BaselineListening } from './baseline-server.js';
import { exited, forkTs, freePort, nextMessage, stopChild, trackChild } from './processes.js';

/** A server under test running in a child process. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves with how it ended. */
  stop(): Promise<number | string>;
}

const START_LIMIT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const PORT_ATTEMPTS = 3;
/** Kept from the service's stderr, to say why it did not start. */
const STDERR_TAIL_CHARS = 2_000;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The service as it is deployed: `ledger serve` in a process of its own, configured by
 * environment only. With LOG_LEVEL=silent it does not say which port it took, so it gets a
 * port that was free a moment ago (another, if that was taken meanwhile) and is ready when
 * GET /healthz answers. `nodeArgs` go to node before the script (e.g. --cpu-prof).
 */
export async function startServiceProcess(env: Readonly<Record<string, string>>, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  let lastError = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const child = trackChild(
      spawn(process.execPath, [...nodeArgs, LEDGER_BIN, 'serve'], {
        env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    const url = `http://127.0.0.1:${port}`;
    let gone = false;
    void exited(child).then(() => {
      gone = true;
    });
    const deadline = Date.now() + START_LIMIT_MS;
    while (!gone && Date.now() < deadline && !(await answers(`${url}/healthz`))) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!gone && Date.now() < deadline) {
      return { url, pid: child.pid ?? -1, stop: () => stopChild(child, STOP_GRACE_MS) };
    }
    const how = gone ? `exited (${String(await exited(child))})` : `did not answer /healthz within ${START_LIMIT_MS} ms`;
    await stopChild(child, 1_000, 'SIGKILL');
    lastError = `ledger serve ${how}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
    if (!/EADDRINUSE|in use/i.test(stderr)) break;
  }
  throw new Error(lastError);
}

const isListening = (m: unknown): m is BaselineListening => typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'listening';

/** The node:http + one INSERT baseline (bench/support/baseline-server.ts) in a process of its own. */
export async function startBaselineProcess(databaseUrl: string, poolSize: number): Promise<ServerProcess> {
  const child = forkTs(new URL('./baseline-server.ts', import.meta.url), [databaseUrl, String(poolSize)]);
  try {
    const { port } = await nextMessage(child, isListening, START_LIMIT_MS);
    return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? -1, stop: () => stopChild(child, STOP_GRACE_MS) };
  } catch (error) {
    await stopChild(child, 1_000, 'SIGKILL');
    throw error;
  }
}
