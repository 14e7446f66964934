import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';
export const NOW = new Date('2026-03-01T12:00:00Z');
export const nowSeconds = (): number => Math.floor(NOW.getTime() / 1_000);

/** A temporary directory for key files, removed by `cleanup`. */
export function tempDir(): { readonly dir: string; write(name: string, content: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-auth-'));
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
