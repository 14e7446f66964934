import { loadConfig } from '../../src/infrastructure/config/config.js';
import type { CompositionOverrides } from '../../src/infrastructure/container/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { startService } from '../../src/infrastructure/service.js';

/** The whole service, as `ledger serve` runs it, on an ephemeral port against `databaseUrl`. */
export function startTestService(databaseUrl: string, env: Record<string, string> = {}, overrides: CompositionOverrides = {}): Promise<RunningService> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '2000', ...env });
  return startService(config, createLogger({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' }), overrides);
}
