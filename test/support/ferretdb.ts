import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './pg.js';

/*
 * A FerretDB v1 (MongoDB wire protocol over PostgreSQL) for one test suite, on a free port,
 * against a fresh PostgreSQL database; stopped and dropped after. The binary is built once
 * by scripts/ferretdb.sh and cached outside the repository (.ci/run builds it). Without the
 * binary a local run skips the MongoDB suites with a loud message; under CI=true they fail.
 */

export const FERRETDB_VERSION = 'v1.24.2';
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const STOP_TIMEOUT_MS = 5_000;

export function ferretDbBinary(): string | undefined {
  const candidate = process.env.FERRETDB_BIN
    ?? path.join(process.env.LEDGER_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ledger'), `ferretdb-${FERRETDB_VERSION}`);
  return existsSync(candidate) ? candidate : undefined;
}

/** Whether MongoDB suites run here; logs loudly when they do not. Under CI=true a missing binary throws. */
export function ferretDbAvailable(suite: string): boolean {
  if (ferretDbBinary()) return true;
  const message = `FerretDB ${FERRETDB_VERSION} is not built: the MongoDB suite "${suite}" cannot run. Build it with scripts/ferretdb.sh build (needs Go).`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(`\n!!! SKIPPED: ${message}\n`);
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export interface RunningFerretDb {
  /** mongodb://127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly database: TestDatabase;
  stop(): Promise<void>;
}

export async function startFerretDb(label: string): Promise<RunningFerretDb> {
  const binary = ferretDbBinary();
  if (!binary) throw new Error(`FerretDB ${FERRETDB_VERSION} is not built (scripts/ferretdb.sh build)`);
  const database = await createTestDatabase(`fdb_${label}`);
  const port = await freePort();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'ferretdb-'));
  const output: string[] = [];
  const child: ChildProcess = spawn(binary, [
    '--handler=postgresql',
    `--postgresql-url=${database.url}`,
    `--listen-addr=127.0.0.1:${port}`,
    '--telemetry=disable',
    `--state-dir=${stateDir}`,
    // Otherwise every instance wants the same debug port.
    '--debug-addr=-',
    '--log-level=error',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => void output.push(chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const cleanup = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exit;
      clearTimeout(timer);
    }
    rmSync(stateDir, { recursive: true, force: true });
    await database.drop();
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      await cleanup();
      throw new Error(`FerretDB did not start on port ${port}: ${output.join('').slice(-2_000)}`);
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  return { url: `mongodb://127.0.0.1:${port}/ledger`, database, stop: cleanup };
}
