import type { PaymentView } from './payments/payment-view.js';
import type { EventMetadata, OutcomeRecord, StreamRevision } from './ports/event-store.js';

/** What a payment command will answer if its append succeeds as decided: all but the position. */
export interface ProspectivePaymentAnswer {
  readonly payment: PaymentView;
  readonly revision: StreamRevision;
}

/** Who asked, why, and under which guarantees. Built by the HTTP layer (or a saga). */
export interface CommandContext {
  readonly correlationId: string;
  readonly causationId?: string | null | undefined;
  /** Who is acting, e.g. `api`, `key:ak_…`, `stripe-webhook`. Recorded in every event's metadata. */
  readonly actor: string;
  /**
   * When present, the command is retried-safe: ids of the payment and of its events are
   * derived from the key, so a repeat after a crash recognises its own earlier write.
   * `firstAttempt`: no earlier attempt ran under this key and first-seen time (the key was
   * new, or had expired and starts afresh), so nothing can have been written under its
   * derived ids and the handler may skip looking for such a write.
   */
  readonly idempotency?:
    | {
        readonly key: string;
        readonly firstSeenAt: Date;
        readonly firstAttempt?: boolean;
        /**
         * Turns the answer the handler is about to give into the key's record, so that the
         * store writes it with the events (EventStore `recordOutcome`). Absent, or a store
         * that cannot, and the caller records the answer afterwards.
         */
        readonly recordPaymentAnswer?: (answer: ProspectivePaymentAnswer) => OutcomeRecord;
      }
    | undefined;
  /**
   * Set for a customer-scoped caller: it may act only on this customer's payments. Another
   * customer's payment answers payment_not_found, so its existence does not leak.
   */
  readonly customerScope?: string | null | undefined;
  /** From If-Match: the command applies only if the stream is exactly at this revision. */
  readonly expectedRevision?: StreamRevision | undefined;
}

/** The metadata every event a command writes carries (docs/architecture.md, "Domain"). */
export const commandMetadata = (ctx: CommandContext, occurredAt: string, schemaVersion: number): EventMetadata => ({
  correlationId: ctx.correlationId,
  causationId: ctx.causationId ?? null,
  actor: ctx.actor,
  occurredAt,
  schemaVersion,
  ...(ctx.idempotency ? { idempotencyKey: ctx.idempotency.key } : {}),
});

/**
 * What ids are derived from when a command carries an idempotency key. The key's first
 * sighting is part of it: once a key has expired (24 h) it may be used again for a new
 * request, which must not collide with the ids of the old one.
 */
export function idempotencySeed(ctx: CommandContext): string | undefined {
  if (!ctx.idempotency) return undefined;
  return `${ctx.actor}\u0000${ctx.idempotency.key}\u0000${ctx.idempotency.firstSeenAt.getTime()}`;
}
