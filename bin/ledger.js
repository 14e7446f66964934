#!/usr/bin/env node
// The `ledger` command. A checkout (development, `npm start`, tests) always runs the
// TypeScript sources through tsx, so a `dist/` left behind by an earlier `npm run build`
// can never run stale code. The Docker image sets LEDGER_RUN_BUILT=1 and runs the build it
// was made with (it holds no sources).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist', 'infrastructure', 'cli', 'main.js');
const sources = join(root, 'src');
// A walk of the sources that finds no end (a link loop, a huge tree) gives up here.
const MAX_SOURCE_ENTRIES = 20_000;

function fail(line) {
  process.stderr.write(`ledger: ${line}\n`);
  process.exit(1);
}

/** The newest modification time under `dir`, in ms; 0 for none. */
function newestModification(dir) {
  let newest = 0;
  const pending = [dir];
  for (let seen = 0; pending.length > 0 && seen < MAX_SOURCE_ENTRIES; seen++) {
    const path = pending.pop();
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) pending.push(join(path, entry));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

const runBuilt = process.env.LEDGER_RUN_BUILT ?? '';
if (!['', '0', '1', 'false', 'true'].includes(runBuilt)) {
  fail(`LEDGER_RUN_BUILT must be 1 (run the build in dist/) or 0 (run the sources), not "${runBuilt}"`);
}

if (runBuilt === '1' || runBuilt === 'true') {
  if (!existsSync(compiled)) fail('LEDGER_RUN_BUILT=1 but there is no build in dist/: run `npm run build` first');
  // Asked for explicitly, so it runs; but an older build than the sources beside it is said.
  if (existsSync(sources) && newestModification(sources) > statSync(compiled).mtimeMs) {
    process.stderr.write('ledger: warning: dist/ is older than src/; run `npm run build` or unset LEDGER_RUN_BUILT\n');
  }
  await import(pathToFileURL(compiled).href);
} else {
  if (!existsSync(sources)) fail('no sources in src/ to run; to run the build in dist/, set LEDGER_RUN_BUILT=1');
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(sources, 'infrastructure', 'cli', 'main.ts')).href);
}
