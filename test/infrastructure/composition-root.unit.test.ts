import type { ServiceIdentifier } from 'inversify';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/infrastructure/config/config.js';
import { buildContainer } from '../../src/infrastructure/container/composition-root.js';
import { TOKENS } from '../../src/infrastructure/container/tokens.js';
import { createLogger } from '../../src/infrastructure/logging/logger.js';
import { TEST_JWT_SECRET } from '../http/support/auth.js';

// Nothing listens there: building and resolving must not need the database.
const NO_DATABASE = 'postgres://postgres@127.0.0.1:1/none';

const pools: pg.Pool[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const pool of pools.splice(0)) await pool.end();
});

async function compose(env: Record<string, string> = {}) {
  const config = loadConfig({ DATABASE_URL: NO_DATABASE, AUTH_JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT_STORE: 'memory', ...env });
  const pool = new pg.Pool({ connectionString: NO_DATABASE });
  pools.push(pool);
  const container = buildContainer(config, createLogger({ level: 'silent' }), pool);
  const server = await container.getAsync(TOKENS.HttpServer);
  const realtime = await container.getAsync(TOKENS.Realtime);
  cleanups.push(() => realtime.close());
  return { container, server, tasks: await container.getAsync(TOKENS.BackgroundTasks) };
}

describe('the composition root', () => {
  it('binds every token, and resolving them all needs no database and binds no port', async () => {
    const { container, server } = await compose();
    const tokens: [string, ServiceIdentifier<unknown>][] = Object.entries(TOKENS);
    expect(tokens.length).toBeGreaterThan(20);
    for (const [name, token] of tokens) {
      expect(await container.getAsync(token), name).toBeDefined();
    }
    expect(server.listening).toBe(false);
  });

  it('lists the background tasks in start order: waiter, projections, refund process manager, payment intent completer, activity feed, realtime, pruning', async () => {
    const { tasks } = await compose();
    expect(tasks.map((t) => t.name)).toEqual(['checkpoint-waiter', 'projections', 'refund-process-manager', 'payment-intent-completer', 'activity-feed', 'billing-process', 'billing-clock', 'webhook-fanout', 'webhook-sender', 'webhook-inbox', 'simulated-disputes', 'realtime', 'idempotency pruning', 'webhook inbox pruning', 'webhook delivery pruning']);
  });

  it('runs the simulated processor\'s disputes only with the simulated provider (Stripe\'s come by webhook)', async () => {
    const { tasks } = await compose({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_0123456789abcdefghijklmnopqrstuvwxyz' });
    expect(tasks.map((t) => t.name)).not.toContain('simulated-disputes');
    expect(tasks.map((t) => t.name)).toContain('billing-clock');
  });

  it('runs no projection task on an API-only instance', async () => {
    const { tasks } = await compose({ PROJECTIONS_ENABLED: 'false' });
    expect(tasks.map((t) => t.name)).toEqual(['checkpoint-waiter', 'realtime', 'idempotency pruning', 'webhook inbox pruning', 'webhook delivery pruning']);
  });

  it('keeps one instance per binding: the server the realtime endpoint is attached to is the one the service listens on', async () => {
    const { container, server } = await compose();
    expect(await container.getAsync(TOKENS.HttpServer)).toBe(server);
    expect(container.get(TOKENS.IdempotencyStore)).toBe(container.get(TOKENS.IdempotencyStore));
  });
});
