import { describe, expectTypeOf, it } from 'vitest';
import type { Authenticator } from '../../src/application/auth/authenticator.js';
import type { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import type { BearerAuthenticator } from '../../src/infrastructure/auth/bearer-authenticator.js';
import type { IdempotencyStore } from '../../src/application/ports/idempotency-store.js';
import type { PaymentCommands } from '../../src/application/ports/payment-commands.js';
import type { ProjectionStatusView, ReadModels } from '../../src/application/ports/read-models.js';
import type { HttpLogger, HttpMetrics, RateLimiter } from '../../src/infrastructure/http/deps.js';
import type { FlexibleRateLimiter } from '../../src/infrastructure/http/rate-limit.js';
import type { Logger } from '../../src/infrastructure/logging/logger.js';
import type { LedgerMetrics } from '../../src/infrastructure/metrics/metrics.js';
import type { PostgresIdempotencyStore } from '../../src/infrastructure/postgres/idempotency/postgres-idempotency-store.js';
import type { CheckpointWaiter } from '../../src/projections/checkpoint-waiter.js';
import type { ProjectionStatus } from '../../src/projections/status.js';

/*
 * createHttpApp's deps are structural so the composition root can pass the real
 * implementations as they are. These checks fail to compile when one drifts.
 */
describe('the real implementations fit createHttpApp deps', () => {
  it('type-checks', () => {
    expectTypeOf<PaymentCommandHandlers>().toExtend<PaymentCommands>();
    expectTypeOf<PostgresIdempotencyStore>().toExtend<IdempotencyStore>();
    expectTypeOf<Logger>().toExtend<HttpLogger>();
    expectTypeOf<LedgerMetrics>().toExtend<HttpMetrics>();
    expectTypeOf<CheckpointWaiter>().toExtend<Pick<ReadModels, 'waitForPosition'>>();
    expectTypeOf<ProjectionStatus>().toExtend<ProjectionStatusView>();
    expectTypeOf<BearerAuthenticator>().toExtend<Authenticator>();
    expectTypeOf<FlexibleRateLimiter>().toExtend<RateLimiter>();
  });
});
