import type { Result } from '../../domain/result.js';
import type { RefundReason } from '../../domain/refund/events.js';
import type { CommandContext } from '../command-context.js';
import type { StreamRevision } from './event-store.js';
import type { Position } from './position.js';
import type { RefundView } from '../refunds/refund-view.js';

export interface CreateRefundInput {
  readonly paymentId: string;
  /** Minor units in the payment's currency; absent = everything still refundable. */
  readonly amount?: number | undefined;
  readonly reason: RefundReason | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface RefundCommandSuccess {
  readonly refund: RefundView;
  readonly revision: StreamRevision;
  readonly position: Position;
  /** True when an earlier call with the same idempotency key did the work. */
  readonly replayed: boolean;
}

/** Everything creating a refund can answer besides success; each maps to one HTTP status. */
export type RefundCommandError =
  | { readonly code: 'payment_not_found'; readonly paymentId: string }
  /** The payment is not succeeded or partially_refunded (409). */
  | { readonly code: 'payment_not_refundable'; readonly paymentId: string; readonly status: string }
  /** More than captured − refunded − reserved (409); names what may still be refunded. */
  | { readonly code: 'amount_exceeds_refundable'; readonly requested: number; readonly refundable: number; readonly currency: string }
  | { readonly code: 'invalid_amount'; readonly message: string }
  | { readonly code: 'customer_forbidden'; readonly customerId: string }
  | { readonly code: 'revision_mismatch'; readonly expected: string; readonly actual: string | null }
  | { readonly code: 'provider_unavailable'; readonly message: string }
  | { readonly code: 'concurrency_conflict'; readonly attempts: number };

export type RefundCommandResult = Result<RefundCommandSuccess, RefundCommandError>;

/** The refund commands as HTTP sees them; RefundCommandHandlers satisfies it. */
export interface RefundCommands {
  create(input: CreateRefundInput, ctx: CommandContext): Promise<RefundCommandResult>;
}
