import { isInvoiceEventType, upcastInvoiceEvent } from '../../domain/invoice/index.js';
import { foldSubscription, isSubscriptionEventType, upcastSubscriptionEvent } from '../../domain/subscription/index.js';
import type { EventStore, RecordedEvent } from '../ports/event-store.js';
import { streamRevision } from '../ports/event-store.js';
import type { BillingConfig } from './billing-reactions.js';
import { reactToInvoiceEvent, reactToSubscriptionEvent } from './billing-reactions.js';
import type { BillingSteps, StepOutcome } from './billing-steps.js';
import { BILLING_ACTOR, laterPosition } from './billing-steps.js';
import type { Position } from '../ports/position.js';

/*
 * The billing process manager's handling of one recorded event: its reactions, carried out
 * in order. Stateless: what it needs of the past it reads from the log, so a runner can
 * replay it from a checkpoint after a crash (docs/architecture.md, "Subscriptions"). Each
 * action's events derive their ids from the triggering event's id and the action's index.
 */
/** The event types the process manager reacts to; a runner can skip the rest without reading them twice. */
export const isBillingProcessEventType = (type: string): boolean => isSubscriptionEventType(type) || isInvoiceEventType(type);

export class BillingProcess {
  constructor(
    private readonly store: EventStore,
    private readonly steps: BillingSteps,
    private readonly config: BillingConfig,
  ) {}

  /** Every action done, or the first that must be retried later (the rest wait with it). */
  async handle(event: RecordedEvent): Promise<StepOutcome> {
    const actions = isSubscriptionEventType(event.type)
      ? reactToSubscriptionEvent(upcastSubscriptionEvent(event.type, event.data, event.metadata.schemaVersion), await this.subscriptionBefore(event), event.id)
      : isInvoiceEventType(event.type)
        ? reactToInvoiceEvent(upcastInvoiceEvent(event.type, event.data, event.metadata.schemaVersion), this.config)
        : [];
    let position: Position | undefined;
    for (const [index, action] of actions.entries()) {
      const outcome = await this.steps.execute(action, {
        actor: BILLING_ACTOR,
        correlationId: event.metadata.correlationId,
        causationId: event.id,
        seed: `${event.id}\u0000${index}`,
        // Reactions happen when their cause did, on the subscription's own clock.
        at: new Date(event.metadata.occurredAt),
      });
      if (outcome.kind !== 'done') return outcome;
      position = laterPosition(position, outcome.position);
    }
    return { kind: 'done', position };
  }

  /** The subscription as it stood just before `event`: its price and clock then. */
  private async subscriptionBefore(event: RecordedEvent): Promise<Parameters<typeof reactToSubscriptionEvent>[1]> {
    if (event.revision === streamRevision(0)) return undefined;
    const { events } = await this.store.readStream(event.streamId, { maxCount: Number(event.revision) });
    const state = foldSubscription(events.map((e) => upcastSubscriptionEvent(e.type, e.data, e.metadata.schemaVersion)));
    return state.exists ? { price: state.price, testClock: state.testClock, currentPeriod: state.currentPeriod } : undefined;
  }
}
