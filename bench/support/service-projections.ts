import type pg from 'pg';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { buildContainer } from '../../src/infrastructure/container/composition-root.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import type { Projection } from '../../src/projections/projection.js';

/**
 * Every projection the service runs, exactly as the composition root lists them, so a
 * projection added there (reports, activity, refunds…) is in the benchmark with no change here.
 */
export async function serviceProjections(databaseUrl: string, pool: pg.Pool): Promise<readonly Projection[]> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  const container = buildContainer(config, createLogger({ level: 'silent' }), pool);
  return container.getAsync(TOKENS.Projections);
}
