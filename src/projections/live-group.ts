import type { EventStore, RecordedEvent } from '../application/ports/event-store.js';
import type { Position } from '../application/ports/position.js';
import { START, comparePositions, isAfter } from '../application/ports/position.js';
import type { BatchOutcome, BatchPart, ProjectionStore } from '../application/ports/projection-store.js';
import type { HandlerFailure } from './apply-events.js';
import { applyEvents } from './apply-events.js';
import type { Projection } from './projection.js';

/*
 * The projections this instance leads, following the log together once they are caught up:
 * one subscription reads each batch once, and one transaction commits it for all of them
 * (ProjectionStore.commitBatches), instead of one read and one commit per projection per
 * batch. Each projection keeps what the plan gives it alone (docs/architecture.md,
 * "Projections"): its own lease, its own checkpoint checked and moved under its record's
 * lock, its own part of the transaction, so that one that fails, steps aside or loses its
 * lease leaves the group and the others go on.
 *
 * A worker follows the log on its own until it has caught up and only then joins, so that
 * one replaying a long history never holds the others back; one that joins a little behind
 * the group makes it re-read from there, and the others skip what they already have.
 */

/** What the group needs from a projection's worker. */
export interface GroupMember {
  readonly projection: Projection;
  readonly handled: ReadonlySet<string>;
  readonly schema: string;
  /** The worker's leadership: aborted on stop or when the lease is lost. */
  readonly signal: AbortSignal;
  /** Before a batch that includes this member; returns what to call with the events once it committed. */
  batchStarted(): (events: number) => void;
  /**
   * The outcome of this member's part of a batch. Returns true to stay in the group; false,
   * or a throw (the store's own trouble, to be retried), makes it leave.
   */
  settle(outcome: BatchOutcome<HandlerFailure>, events: readonly RecordedEvent[]): Promise<boolean>;
}

interface Entry {
  readonly member: GroupMember;
  checkpoint: Position;
  readonly done: (error?: unknown) => void;
}

export class LiveGroup {
  private readonly entries = new Set<Entry>();
  private running: Promise<void> | undefined;
  /** Aborted to re-subscribe (from an earlier position) or to end the subscription when the group empties. */
  private resubscribe = new AbortController();
  /** Where the subscription is: every member's checkpoint is at or after it. */
  private cursor: Position = START;
  /** The batch being committed, settled or not (never rejects). */
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { readonly eventStore: EventStore; readonly store: ProjectionStore },
    private readonly batchSize: number,
  ) {}

  /**
   * Follows the log as part of the group from `checkpoint` until the member leaves: resolves
   * when it steps aside or its signal aborts, rejects with the store's trouble.
   */
  follow(member: GroupMember, checkpoint: Position): Promise<void> {
    if (member.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = {
        member,
        checkpoint,
        done: (error?: unknown) => {
          member.signal.removeEventListener('abort', onAbort);
          if (!this.entries.delete(entry)) return;
          if (this.entries.size === 0) this.resubscribe.abort();
          if (error === undefined) resolve();
          else reject(error instanceof Error ? error : new Error(`projection group: ${JSON.stringify(error)}`));
        },
      };
      // A batch of this member's may be committing: leave once it has, so that a stopped
      // worker releases its lease at a committed checkpoint, as one following alone does.
      const onAbort = (): void => void this.committing.then(() => entry.done());
      member.signal.addEventListener('abort', onAbort, { once: true });
      const wasEmpty = this.entries.size === 0;
      this.entries.add(entry);
      if (wasEmpty) this.cursor = checkpoint;
      else if (comparePositions(checkpoint, this.cursor) < 0) this.resubscribe.abort();
      this.ensureRunning();
    });
  }

  private ensureRunning(): void {
    if (this.running) return;
    // A member may join between the loop's last look and this finally: start again for it.
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.entries.size > 0) this.ensureRunning();
    });
  }

  private async run(): Promise<void> {
    while (this.entries.size > 0) {
      const controller = new AbortController();
      this.resubscribe = controller;
      this.cursor = this.lowestCheckpoint();
      try {
        const batches = this.deps.eventStore.subscribeToAll({
          after: comparePositions(this.cursor, START) === 0 ? undefined : this.cursor,
          batchSize: this.batchSize,
          signal: controller.signal,
        });
        for await (const batch of batches) {
          const committing = this.commit(batch);
          this.committing = committing.catch(() => undefined);
          await committing;
          if (controller.signal.aborted) break;
        }
      } catch (error) {
        // An abort is a re-subscription or the end; anything else is the log's trouble: every member retries.
        if (!controller.signal.aborted) for (const entry of [...this.entries]) entry.done(error);
      }
    }
  }

  private lowestCheckpoint(): Position {
    let lowest: Position | undefined;
    for (const entry of this.entries) if (lowest === undefined || comparePositions(entry.checkpoint, lowest) < 0) lowest = entry.checkpoint;
    return lowest ?? START;
  }

  /** One transaction for every member with events after its checkpoint in this batch. */
  private async commit(batch: readonly RecordedEvent[]): Promise<void> {
    const last = batch.at(-1);
    if (!last) return;
    const shares: { entry: Entry; events: readonly RecordedEvent[]; finished: (events: number) => void }[] = [];
    for (const entry of this.entries) {
      if (entry.member.signal.aborted) continue;
      const events = batch.filter((e) => isAfter(e.position, entry.checkpoint));
      if (events.length > 0) shares.push({ entry, events, finished: entry.member.batchStarted() });
    }
    this.cursor = last.position;
    if (shares.length === 0) return;
    const parts: BatchPart<HandlerFailure>[] = shares.map(({ entry, events }) => ({
      batch: { name: entry.member.projection.name, version: entry.member.projection.version, schema: entry.member.schema, from: entry.checkpoint, to: last.position },
      work: (sql) => applyEvents(entry.member.projection, entry.member.handled, sql, events),
    }));
    let outcomes: BatchOutcome<HandlerFailure>[];
    try {
      outcomes = await this.deps.store.commitBatches(parts);
    } catch (error) {
      // Nothing was written for anyone in this batch: they leave and retry from their checkpoints.
      for (const { entry } of shares) entry.done(error);
      return;
    }
    for (const [i, { entry, events, finished }] of shares.entries()) {
      const outcome = outcomes[i];
      if (!outcome) continue;
      if (outcome.kind === 'committed') {
        entry.checkpoint = outcome.checkpoint;
        finished(events.length);
      }
      try {
        if (!(await entry.member.settle(outcome, events))) entry.done();
      } catch (error) {
        entry.done(error);
      }
    }
  }
}
