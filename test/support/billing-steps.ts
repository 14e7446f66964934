import type { Clock } from '../../src/application/ports/clock.js';
import type { EventStore } from '../../src/application/ports/event-store.js';
import type { IdGenerator } from '../../src/application/ports/id-generator.js';
import type { PaymentCommands } from '../../src/application/ports/payment-commands.js';
import { PaymentCommandHandlers } from '../../src/application/payments/payment-command-handlers.js';
import { RefundCommandHandlers } from '../../src/application/refunds/refund-command-handlers.js';
import type { BillingStepsConfig } from '../../src/application/subscriptions/billing-steps.js';
import { BillingSteps } from '../../src/application/subscriptions/billing-steps.js';
import type { SubscriptionCommandHandlers } from '../../src/application/subscriptions/subscription-command-handlers.js';
import { SimulatedPaymentProvider } from '../../src/infrastructure/simulated-provider/simulated-payment-provider.js';

/**
 * The billing process manager's steps over `store`, charging and refunding through the real
 * payment and refund handlers and the simulated processor (test cards decide the outcome).
 */
export function billingStepsFor(
  store: EventStore,
  subscriptions: SubscriptionCommandHandlers,
  ids: IdGenerator,
  clock: Clock,
  options: { readonly payments?: PaymentCommands; readonly config?: BillingStepsConfig } = {},
): BillingSteps {
  const provider = new SimulatedPaymentProvider();
  const payments = options.payments ?? new PaymentCommandHandlers(store, provider, clock, ids);
  return new BillingSteps({ store, subscriptions, payments, refunds: new RefundCommandHandlers(store, provider, clock, ids), ids }, options.config);
}
