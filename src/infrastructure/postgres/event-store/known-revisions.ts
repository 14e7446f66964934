/** Streams remembered per store instance; the oldest is forgotten first. */
const MAX_STREAMS = 10_000;

/**
 * The highest revision this instance has seen in each of recently used streams, from its
 * own appends and reads. Events are never deleted, so "revision n exists" never becomes
 * false: an append at an exact revision known to exist needs no probe of the stream's head
 * before it writes (the revision key still refuses it if the stream has moved on). A
 * command handler appends at the revision it has just read, so this is the common case.
 */
export class KnownRevisions {
  readonly #highest = new Map<string, bigint>();

  /** Whether revision `revision` of `streamId` is known to exist. */
  has(streamId: string, revision: bigint): boolean {
    const highest = this.#highest.get(streamId);
    return highest !== undefined && revision <= highest;
  }

  note(streamId: string, revision: bigint): void {
    const highest = this.#highest.get(streamId);
    if (highest !== undefined && highest >= revision) return;
    // Re-inserted, so that the map's order is least recently moved first.
    this.#highest.delete(streamId);
    if (this.#highest.size >= MAX_STREAMS) {
      const oldest = this.#highest.keys().next();
      if (oldest.done !== true) this.#highest.delete(oldest.value);
    }
    this.#highest.set(streamId, revision);
  }
}
