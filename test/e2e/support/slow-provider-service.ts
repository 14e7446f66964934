/*
 * The whole service as `ledger serve` runs it, in a process of its own, with a card
 * processor that takes TEST_AUTHORIZE_DELAY_MS to authorize: tests start it with
 * `node --import tsx`, catch a command in flight, and kill -9 it. Test code only: the
 * delay is a composition override, nothing the production service reads.
 *
 * stdout carries the service's JSON log lines and two markers of its own:
 * `{"marker":"listening","url":…}` once it serves, `{"marker":"authorize"}` when a command
 * reaches the provider.
 */
import type { AuthorizeRequest, AuthorizeResult } from '../../../src/application/ports/payment-provider.js';
import { loadConfig } from '../../../src/infrastructure/config/config.js';
import { createLogger } from '../../../src/infrastructure/logging/logger.js';
import { startService } from '../../../src/infrastructure/service.js';
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
process.once('SIGTERM', () => {
  void service.stop().then(() => process.exit(0));
});
