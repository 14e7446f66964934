/**
 * The inbox of events the payment processor sends us (Stripe webhooks). Recording is the
 * whole of the acknowledgement: one insert, deduplicated on (provider, event id), so a
 * delivery Stripe repeats is recognised and does nothing. Processing happens later, from
 * claims that lapse when their holder dies, so an event is never lost and never dropped:
 * it ends `processed`, `ignored` (recorded, nothing to do) or `failed` (parked for an operator).
 */

export type InboxStatus = 'pending' | 'processing' | 'processed' | 'ignored' | 'failed';
export const INBOX_STATUSES: readonly InboxStatus[] = ['pending', 'processing', 'processed', 'ignored', 'failed'];

export interface NewInboxEntry {
  readonly provider: string;
  /** The processor's event id (`evt_…`): unique per provider. */
  readonly eventId: string;
  readonly type: string;
  /** The id of the object the event is about (`pi_…`, `re_…`, `dp_…`), when it has one: for operators. */
  readonly objectId: string | null;
  /** When the processor says the event happened. */
  readonly providerCreatedAt: Date;
  /** The event exactly as received (verified JSON text). */
  readonly payloadJson: string;
}

export interface InboxEntry {
  /** Our id for the entry (digits). */
  readonly id: string;
  readonly provider: string;
  readonly eventId: string;
  readonly type: string;
  readonly objectId: string | null;
  readonly providerCreatedAt: string;
  readonly receivedAt: string;
  readonly status: InboxStatus;
  /** Processing attempts started (a claim counts, so a crash counts). */
  readonly attempts: number;
  /** When it is next due (pending), or when its claim lapses (processing); null once done. */
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
  /** What processing came to, in words: "payment pay_… captured 3000", "unknown object: …". */
  readonly outcome: string | null;
  readonly processedAt: string | null;
}

export interface InboxEntryWithPayload extends InboxEntry {
  readonly payload: unknown;
}

/** An entry claimed for processing: only the holder of `claimToken` may finish it. */
export interface InboxClaim {
  readonly id: string;
  readonly provider: string;
  readonly eventId: string;
  readonly type: string;
  readonly providerCreatedAt: Date;
  readonly payload: unknown;
  /** Including this one. */
  readonly attempts: number;
  readonly claimToken: string;
}

export type InboxFinalStatus = 'processed' | 'ignored' | 'failed';

export interface InboxFinish {
  readonly claim: InboxClaim;
  readonly status: InboxFinalStatus;
  readonly outcome: string | null;
  readonly error: string | null;
}

export interface InboxPage {
  readonly data: readonly InboxEntry[];
  /** The id to continue before (newest first), or null on the last page. */
  readonly nextBefore: string | null;
}

export type InboxRetryResult =
  | { readonly status: 'scheduled'; readonly entry: InboxEntry }
  | { readonly status: 'not_found' }
  | { readonly status: 'not_retryable'; readonly current: InboxStatus };

export interface ProviderInbox {
  /** Records the event unless it is already there; `duplicate` when it was. */
  record(entry: NewInboxEntry): Promise<{ readonly duplicate: boolean }>;
  /** Up to `limit` entries that are due, or whose claim lapsed, claimed for `leaseMs`. */
  claimDue(limit: number, leaseMs: number): Promise<InboxClaim[]>;
  /**
   * Ends claims with their final statuses, all in one write (a batch costs one commit, not
   * one per event); answers the ids whose claim had lapsed and another holder took (not written).
   */
  finishAll(finished: readonly InboxFinish[]): Promise<readonly string[]>;
  /** Puts the entry back as pending, due after `delayMs`; false when the claim had lapsed. */
  reschedule(claim: InboxClaim, error: string, delayMs: number): Promise<boolean>;
  list(query: { readonly status?: InboxStatus | undefined; readonly limit: number; readonly before?: string | undefined }): Promise<InboxPage>;
  get(id: string): Promise<InboxEntryWithPayload | undefined>;
  /** A failed or ignored entry made due again now, with a fresh allowance of attempts. */
  retry(id: string): Promise<InboxRetryResult>;
}
