#!/usr/bin/env node
// The `ledger` command. Runs the compiled build when there is one (the Docker image),
// otherwise the TypeScript sources through tsx (a checkout, `npm start`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = `${root}dist/infrastructure/cli/main.js`;
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(`${root}src/infrastructure/cli/main.ts`).href);
}
