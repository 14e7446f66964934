import { loadConfig } from '../../src/infrastructure/config/config.js';
import type { CompositionOverrides } from '../../src/infrastructure/container/composition-root.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import type { RunningService } from '../../src/infrastructure/service.js';
import { startService } from '../../src/infrastructure/service.js';

import { TEST_JWT_SECRET, mintToken } from '../http/support/auth.js';

/** An admin bearer token the test service accepts. */
export const adminToken = (): Promise<string> => mintToken({ scopes: ['admin'], sub: 'e2e-admin' });
export const authHeader = async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await adminToken()}` });

/** The whole service, as `ledger serve` runs it, on an ephemeral port against `databaseUrl`. */
export function startTestService(databaseUrl: string, env: Record<string, string> = {}, overrides: CompositionOverrides = {}): Promise<RunningService> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    SHUTDOWN_GRACE_MS: '2000',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
  });
  return startService(config, createLogger({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' }), overrides);
}
