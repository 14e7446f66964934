/*
 * The whole service as `ledger serve` runs it, in a process of its own, with a card
 * processor that takes TEST_AUTHORIZE_DELAY_MS to authorize: tests start it with
 * `node --import tsx`, catch a command in flight, and kill -9 it. Test code only: the
 * delay is a composition override, nothing the production service reads.
 *
 * stdout carries the service's JSON log lines and two markers of its own:
 * `{"marker":"listening","url":…}` once it serves, `{"marker":"authorize"}` when a command
 * reaches the provider.
 *
 * With TEST_ADVANCE_CLOCK=`<clock id>@<ISO time>` it also advances that test clock as soon as
 * it serves, and prints `{"marker":"advanced"}` when done (the crash-mid-advance test kills
 * it before that).
 */
import type { AuthorizeRequest, AuthorizeResult } from '../../../src/application/ports/payment-provider.js';
import { loadConfig } from '../../../src/infrastructure/config/config.js';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';
import { startService } from '../../../src/infrastructure/service.js';
import { TOKENS } from '../../../src/infrastructure/container/tokens.js';
import type { TestClockId } from '../../../src/domain/ids.js';
import { SimulatedPaymentProvider } from '../../../src/infrastructure/simulated-provider/simulated-payment-provider.js';

const delayMs = Number(process.env.TEST_AUTHORIZE_DELAY_MS ?? '0');
const marker = (fields: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(fields)}\n`);

class SlowProvider extends SimulatedPaymentProvider {
  override async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    marker({ marker: 'authorize' });
    await new Promise((r) => setTimeout(r, delayMs));
    return super.authorize(request);
  }
}

const config = loadConfig(process.env);
const service = await startService(config, createLogger({ level: config.LOG_LEVEL }), { paymentProvider: new SlowProvider() });
marker({ marker: 'listening', url: service.url });
const advance = process.env.TEST_ADVANCE_CLOCK?.split('@');
if (advance?.length === 2) {
  const [clockId, to] = advance as [string, string];
  const advanced = await service.container.get(TOKENS.TestClocks).advance(clockId as TestClockId, new Date(to), { correlationId: 'child-advance', actor: 'test', customerScope: null });
  marker({ marker: 'advanced', ok: advanced.ok });
}
process.once('SIGTERM', () => {
  void service.stop().then(() => process.exit(0));
});
