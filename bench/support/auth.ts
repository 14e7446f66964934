import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A bearer token for the service under test, through the public contract only
 * (docs/architecture.md, "Public contract": `ledger token create --scope <scopes> [--customer <id>]` prints a
 * bearer token on stdout), so the benchmark does not depend on how authentication is built:
 *
 * 1. BENCH_AUTH_TOKEN, when set;
 * 2. otherwise `ledger token create --scope <scope>` run against the benchmark's database;
 * 3. otherwise none (a build without authentication): requests go without Authorization.
 */
export interface BenchToken {
  readonly token: string | undefined;
  /** Where it came from, or why there is none: one line for the log. */
  readonly source: string;
}

/** The `ledger` command of this checkout. */
export const LEDGER_BIN = fileURLToPath(new URL('../../bin/ledger.js', import.meta.url));
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{16,}$/;

export async function benchToken(databaseUrl: string, scope: string): Promise<BenchToken> {
  const fromEnv = process.env.BENCH_AUTH_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return { token: fromEnv, source: 'BENCH_AUTH_TOKEN' };
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [LEDGER_BIN, 'token', 'create', '--scope', scope],
      { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }, timeout: 30_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
  const token = result.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  if (result.code === 0 && token !== undefined && TOKEN_PATTERN.test(token)) {
    return { token, source: `\`ledger token create --scope ${scope}\`` };
  }
  const why = (result.stderr.trim().split('\n')[0] ?? '').slice(0, 160) || `exit code ${result.code}`;
  return { token: undefined, source: `none (\`ledger token create\` unavailable: ${why})` };
}

/** The Authorization header for `token`, or none. */
export const authorizationHeader = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };
