import type { CancellationReason } from '../../domain/payment/index.js';
import type { CommandContext } from '../command-context.js';
import type { CreatePaymentInput, PaymentCommandResult } from '../payments/payment-command-handlers.js';

/**
 * The payment commands as their callers (HTTP) see them. PaymentCommandHandlers satisfies
 * it; tests wrap or replace it (a handler that throws, one that waits).
 */
export interface PaymentCommands {
  create(input: CreatePaymentInput, ctx: CommandContext): Promise<PaymentCommandResult>;
  capture(paymentId: string, amount: number | undefined, ctx: CommandContext): Promise<PaymentCommandResult>;
  cancel(paymentId: string, reason: CancellationReason | null, ctx: CommandContext): Promise<PaymentCommandResult>;
}
