import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_JWT_SECRET } from '../../http/support/auth.js';

const SCRIPT = fileURLToPath(new URL('./slow-provider-service.ts', import.meta.url));
/** Starting under tsx on a busy 2-core machine takes a few seconds; past this, the test fails. */
const START_TIMEOUT_MS = 30_000;

export interface ChildService {
  readonly url: string;
  readonly process: ChildProcess;
  /** Every JSON line it printed so far (log lines and markers). */
  readonly lines: Record<string, unknown>[];
  /** Resolves at the next line matching `predicate` (or one already printed after `fromIndex`). */
  nextLine(predicate: (line: Record<string, unknown>) => boolean, fromIndex?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** The service in a process of its own (see slow-provider-service.ts), listening on an ephemeral port. */
export async function startChildService(databaseUrl: string, env: Record<string, string> = {}): Promise<ChildService> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_PER_MINUTE: '100000',
      SHUTDOWN_GRACE_MS: '2000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ text });
    }
    for (const wake of waiters) wake();
  });
  const nextLine = (predicate: (line: Record<string, unknown>) => boolean, fromIndex = 0): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = lines.slice(fromIndex).find(predicate);
        if (found) resolve(found);
        return found !== undefined;
      };
      if (check()) return;
      const wake = (): void => {
        if (check()) waiters.delete(wake);
      };
      waiters.add(wake);
      void exited.then(() => {
        if (waiters.delete(wake)) reject(new Error(`service exited before the expected line; it printed: ${JSON.stringify(lines.slice(-5))}`));
      });
    });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`service did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  try {
    const listening = await Promise.race([nextLine((l) => l.marker === 'listening'), timeout]);
    return {
      url: String(listening.url),
      process: child,
      lines,
      nextLine,
      async kill(signal) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
