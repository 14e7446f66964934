import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { PortUnavailable, startService } from '../../src/infrastructure/service.js';
import { TEST_JWT_SECRET } from '../http/support/auth.js';
import type { TestDatabase } from '../support/pg.js';
import { createTestDatabase } from '../support/pg.js';
import { startTestService } from '../support/service.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Starting node and compiling the sources through tsx takes a few seconds on 2 cores.
const CLI_START_LIMIT_MS = 30_000;
// From the one line on stderr to the process being gone: about 50 ms on an idle machine;
// the rest is room for a machine under load. A start that leaves anything running never exits.
const EXIT_AFTER_FAILURE_LIMIT_MS = 2_000;
const CONNECTIONS_GONE_LIMIT_MS = 2_000;

let db: TestDatabase;
let holder: net.Server;
let heldPort: number;
/** A `ledger serve` that did not exit (the defect this file is about) must not outlive the run. */
let child: ChildProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase('port_in_use');
  holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  heldPort = (holder.address() as net.AddressInfo).port;
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await new Promise((resolve) => holder?.close(resolve));
  await db?.drop();
});

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from the first stderr output to the exit; undefined without stderr. */
  readonly exitAfterStderrMs: number | undefined;
}

/** `ledger serve` as `npm start` runs it, on the held port. */
function serveOnHeldPort(): Promise<Exit> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AUTH_|DATABASE_URL$|NODE_ENV$|PORT$|HOST$)/.test(k)));
  const serve = spawn(process.execPath, ['bin/ledger.js', 'serve'], {
    cwd: ROOT,
    env: { ...env, NODE_ENV: 'development', DATABASE_URL: db.url, PORT: String(heldPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = serve;
  let stdout = '';
  let stderr = '';
  let firstStderrAt: number | undefined;
  serve.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  serve.stderr.on('data', (chunk: Buffer) => {
    firstStderrAt ??= performance.now();
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      serve.kill('SIGKILL');
      reject(new Error(`ledger serve still running after ${CLI_START_LIMIT_MS} ms; stderr: ${stderr}`));
    }, CLI_START_LIMIT_MS);
    serve.on('exit', (code) => {
      clearTimeout(limit);
      const exitedAt = performance.now();
      // 'exit' can come before the last pipe data; the streams end right after.
      setImmediate(() => resolve({ code, stdout, stderr, exitAfterStderrMs: firstStderrAt === undefined ? undefined : exitedAt - firstStderrAt }));
    });
  });
}

/** Connections to the test database other than the test's own pool. */
async function serviceConnections(): Promise<number> {
  const result = await db.pool.query<{ count: string }>(
    `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name NOT LIKE 'test-%'`,
    [db.name],
  );
  return Number(result.rows[0]!.count);
}

describe('a port already in use', () => {
  it('ledger serve exits non-zero at once, with one line naming the port and no stack trace', { timeout: CLI_START_LIMIT_MS + 5_000 }, async () => {
    const run = await serveOnHeldPort();

    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toEqual([`ledger: port ${heldPort} on 127.0.0.1 is already in use: stop what holds it, or set PORT`]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.exitAfterStderrMs, 'milliseconds from the stderr line to the exit').toBeLessThan(EXIT_AFTER_FAILURE_LIMIT_MS);
    expect(run.stdout).not.toContain('ledger listening');
  });

  it('startService rejects with PortUnavailable and leaves no connection, lease or listener behind', async () => {
    const failure: unknown = await startTestService(db.url, { PORT: String(heldPort) }).then(
      async (service) => {
        await service.stop();
        return new Error('started on a port that is in use');
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PortUnavailable);
    // The CLI prints errors of this name as one line, without a stack.
    expect(failure).toMatchObject({ name: 'DependencyUnavailable', message: expect.stringMatching(`^port ${heldPort} on 127\\.0\\.0\\.1 is already in use`) as unknown });
    const deadline = performance.now() + CONNECTIONS_GONE_LIMIT_MS;
    let open = await serviceConnections();
    while (open > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      open = await serviceConnections();
    }
    expect(open).toBe(0);
    // pg_locks is server-wide: only this file's database counts.
    const leases = await db.pool.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(leases.rowCount).toBe(0);
  });

  it('names host and port in the listening line when the port is free', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', AUTH_JWT_SECRET: TEST_JWT_SECRET, SHUTDOWN_GRACE_MS: '2000' });
    const service = await startService(config, createLogger({ level: 'info', destination }));
    try {
      const listening = lines.find((line) => typeof line.msg === 'string' && line.msg.startsWith('ledger listening'));
      expect(listening).toMatchObject({ host: '127.0.0.1', port: service.port, msg: `ledger listening on 127.0.0.1:${service.port}` });
    } finally {
      await service.stop();
    }
  });
});
