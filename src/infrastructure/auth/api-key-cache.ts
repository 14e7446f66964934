/**
 * A small LRU of verified API keys, each entry valid for `ttlMs` after it was loaded from
 * the database (not after it was last used): a key revoked on another instance stops
 * working here within `ttlMs`, however busy it is. The entry holds the secret's hash, never
 * the secret, so a hit still proves the caller knows the secret.
 */
export interface CachedKey<T> {
  readonly value: T;
  readonly loadedAt: number;
}

export class ApiKeyCache<T> {
  readonly #entries = new Map<string, CachedKey<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {
    if (maxEntries < 1) throw new RangeError('maxEntries must be at least 1');
  }

  get(id: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    // A clock that went backwards also invalidates: the entry's age is then unknown.
    if (nowMs - entry.loadedAt >= this.ttlMs || nowMs < entry.loadedAt) return undefined;
    this.#entries.set(id, entry);
    return entry.value;
  }

  set(id: string, value: T, nowMs: number): void {
    this.#entries.delete(id);
    this.#entries.set(id, { value, loadedAt: nowMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
