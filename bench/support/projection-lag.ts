import { comparePositions, formatPosition } from '../../src/application/ports/position.js';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { buildContainer } from '../../src/infrastructure/container/composition-root.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { createPool } from '../../src/infrastructure/postgres/pool.js';

export interface CatchUp {
  /** From the call until every projection's checkpoint reached the head (or the limit), ms. */
  readonly ms: number;
  readonly caughtUp: boolean;
  /** The head of the log when the call began. */
  readonly head: string;
  /** Projections still behind at the limit. */
  readonly behind: readonly string[];
}

const POLL_MS = 25;

/**
 * Waits until every projection of the composition root has caught up with the head of the
 * log, read through the ports as `ledger projections status` reads them (from the shared
 * database, so it sees the service process's checkpoints).
 */
export async function projectionCatchUp(databaseUrl: string, limitMs: number): Promise<CatchUp> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  const pool = createPool({ connectionString: databaseUrl, max: 2, applicationName: 'bench-projection-lag' });
  const container = buildContainer(config, createLogger({ level: 'silent' }), pool);
  const eventStore = container.get(TOKENS.EventStore);
  const store = container.get(TOKENS.ProjectionStore);
  try {
    const names = (await container.getAsync(TOKENS.Projections)).map((p) => p.name);
    const head = await eventStore.headPosition();
    const t0 = performance.now();
    if (head === undefined) return { ms: 0, caughtUp: true, head: '-', behind: [] };
    let behind = names;
    while (behind.length > 0 && performance.now() - t0 < limitMs) {
      const at = await store.readCheckpoints(behind);
      behind = behind.filter((name) => {
        const checkpoint = at.get(name);
        return checkpoint === undefined || comparePositions(checkpoint, head) < 0;
      });
      if (behind.length > 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return { ms: performance.now() - t0, caughtUp: behind.length === 0, head: formatPosition(head), behind };
  } finally {
    await store.close();
    await eventStore.close();
    await pool.end();
  }
}
