import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Which code `bin/ledger.js` runs, in a throwaway copy of the layout whose sources and build
 * only say who they are: a checkout must run the sources even when a build lies beside them.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

const SOURCES_MAIN = join('src', 'infrastructure', 'cli', 'main.ts');
const BUILT_MAIN = join('dist', 'infrastructure', 'cli', 'main.js');

function run(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LEDGER_RUN_BUILT'));
  return new Promise((resolve) => {
    execFile(process.execPath, [join(dir, 'bin', 'ledger.js')], { env: { ...base, ...env }, timeout: 25_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function write(relative: string, text: string): void {
  mkdirSync(join(dir, relative, '..'), { recursive: true });
  writeFileSync(join(dir, relative), text);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'ledger.js'), join(dir, 'bin', 'ledger.js'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // Typed, so that only tsx (not plain node) can run it.
  write(SOURCES_MAIN, "const from: string = 'sources';\nconsole.log(from);\n");
  write(BUILT_MAIN, "console.log('build');\n");
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bin/ledger.js', () => {
  it('runs the sources through tsx by default, even with a build beside them', async () => {
    expect(await run({})).toMatchObject({ code: 0, stdout: 'sources\n', stderr: '' });
    expect(await run({ LEDGER_RUN_BUILT: '0' })).toMatchObject({ code: 0, stdout: 'sources\n' });
  });

  it('runs the build with LEDGER_RUN_BUILT=1, and says so when the sources are newer', async () => {
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, SOURCES_MAIN), old, old);
    expect(await run({ LEDGER_RUN_BUILT: '1' })).toMatchObject({ code: 0, stdout: 'build\n', stderr: '' });

    const older = new Date(Date.now() - 120_000);
    utimesSync(join(dir, BUILT_MAIN), older, older);
    const stale = await run({ LEDGER_RUN_BUILT: '1' });
    expect(stale).toMatchObject({ code: 0, stdout: 'build\n' });
    expect(stale.stderr).toBe('ledger: warning: dist/ is older than src/; run `npm run build` or unset LEDGER_RUN_BUILT\n');
  });

  it('refuses in one line what it cannot run, or a value it does not understand', async () => {
    expect(await run({ LEDGER_RUN_BUILT: 'yes' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ledger: LEDGER_RUN_BUILT must be 1 (run the build in dist/) or 0 (run the sources), not "yes"\n',
    });
    rmSync(join(dir, 'dist'), { recursive: true });
    expect(await run({ LEDGER_RUN_BUILT: '1' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'ledger: LEDGER_RUN_BUILT=1 but there is no build in dist/: run `npm run build` first\n',
    });
  });
});
