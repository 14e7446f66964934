import type { Container } from 'inversify';
import type pg from 'pg';
import { DisputeCommandHandlers } from '../../application/disputes/dispute-command-handlers.js';
import { SqlDisputeQueries, SqlProviderPaymentIndex } from '../../projections/disputes/dispute-queries.js';
import { DISPUTES_PROJECTION } from '../../projections/disputes/disputes-projection.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import { committedHeadPosition } from '../postgres/event-store/committed-head.js';
import { sqlExecutor } from '../postgres/sql-executor.js';
import { SimulatedDisputeEvidence } from '../simulated-provider/simulated-disputes.js';
import { SimulatedDisputeRunner } from '../simulated-provider/simulated-dispute-runner.js';
import { stripeDisputeEvidenceFrom } from '../stripe/stripe-dispute-evidence.js';
import { TOKENS } from './tokens.js';

/*
 * Disputes' bindings (issue 10), in one block so the composition root only calls this:
 * the dispute command handler (TOKENS.DisputeCommands: the port the Stripe webhook path
 * calls, plus evidence), its processor-id index, the disputes queries, and the simulated
 * processor's runner. Evidence goes to the configured processor: the simulated one decides at
 * once, Stripe's adapter submits it and the outcome follows by webhook.
 */
export function bindDisputes(c: Container, config: Config, pool: pg.Pool, instanceId: string, logger: Logger): void {
  c.bind(TOKENS.DisputeCommands)
    .toDynamicValue((ctx) => {
      const store = ctx.get(TOKENS.EventStore);
      const readModels = ctx.get(TOKENS.ReadModels);
      const index = new SqlProviderPaymentIndex(
        sqlExecutor(pool),
        // A miss is an answer only once every write committed before it is projected (not only the readable ones).
        config.EVENT_STORE === 'postgres' ? () => committedHeadPosition(pool) : () => store.headPosition(),
        (position, timeoutMs) => readModels.waitForPosition(DISPUTES_PROJECTION, position, timeoutMs),
      );
      const evidence = config.PAYMENT_PROVIDER === 'simulated' ? new SimulatedDisputeEvidence() : stripeDisputeEvidenceFrom(config);
      return new DisputeCommandHandlers(store, index, ctx.get(TOKENS.Clock), ctx.get(TOKENS.IdGenerator), evidence);
    })
    .inSingletonScope();
  c.bind(TOKENS.DisputeQueries).toDynamicValue(() => new SqlDisputeQueries(sqlExecutor(pool))).inSingletonScope();
  c.bind(TOKENS.SimulatedDisputeRunner)
    .toDynamicValue((ctx) => new SimulatedDisputeRunner(
      { eventStore: ctx.get(TOKENS.EventStore), store: ctx.get(TOKENS.ProjectionStore), disputes: ctx.get(TOKENS.DisputeCommands) },
      { instanceId, batchSize: config.PROJECTION_BATCH_SIZE, logger: logger.child({ component: 'simulated-disputes' }) },
    ))
    .inSingletonScope();
}
