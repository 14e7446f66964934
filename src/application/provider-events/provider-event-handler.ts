/** One event from the processor's inbox, as the handler sees it. */
export interface ProviderEventInput {
  /** The processor's event id: what every write it leads to derives its ids from. */
  readonly eventId: string;
  readonly type: string;
  readonly createdAt: Date;
  /** The event as received (verified JSON). Trusted for *which* object; never for its state, which is refetched. */
  readonly payload: unknown;
}

/** What handling came to: `processed` (our records now agree) or `ignored` (recorded, nothing of ours to change). */
export interface HandledEvent {
  readonly status: 'processed' | 'ignored';
  /** In words, for the admin inbox: "payment pay_… captured 3000", "unknown object: …". */
  readonly outcome: string;
}

export interface ProviderEventHandler {
  /** Throws to be retried (an outage); ParkEvent to be parked at once. */
  handle(event: ProviderEventInput): Promise<HandledEvent>;
}

/**
 * The event cannot be applied, and trying again will not change that (our records and the
 * processor's contradict each other): parked as failed for an operator, without retries.
 */
export class ParkEvent extends Error {
  override readonly name = 'ParkEvent';
}
