import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/*
 * Child processes of the benchmark (servers under test, load generators): each in its own
 * process so that its CPU time and memory are its own, as they are in production. Every
 * child started here is killed when the benchmark process exits, however it exits.
 */

const live = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGKILL to every child still running: for exit and signal handlers (synchronous). */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

process.on('exit', killChildren);

/** Node flags that make a child run TypeScript sources, as `npm run bench` runs this process. */
export const TSX_EXEC_ARGV: readonly string[] = ['--import', import.meta.resolve('tsx')];

/**
 * Runs a TypeScript module of the benchmark in a child process with an IPC channel
 * (structured-clone serialization, so typed arrays cross it as they are).
 */
export function forkTs(module: URL, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return track(
    fork(fileURLToPath(module), [...args], {
      execArgv: [...TSX_EXEC_ARGV],
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
}

/** Registers a child started some other way (spawn) so that it is killed on the way out too. */
export const trackChild = track;

/** Resolves with the exit code (or the signal's name) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
}

/** Sends `signal`, waits up to `graceMs` for the child to exit, then kills it. Resolves with how it ended. */
export async function stopChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return exited(child);
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const outcome = await Promise.race([exited(child), late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  child.kill('SIGKILL');
  await exited(child);
  return `killed after ${graceMs} ms`;
}

/** The next IPC message for which `accept` is true; rejects if the child exits first or after `timeoutMs`. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`child ${child.pid ?? '?'} sent no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`child ${child.pid ?? '?'} exited (${code ?? signal ?? '?'}) before answering`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** A TCP port free on 127.0.0.1 a moment ago (the caller retries if someone takes it meanwhile). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
