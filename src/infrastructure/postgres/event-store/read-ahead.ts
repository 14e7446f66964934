import type { RecordedEvent } from '../../../application/ports/event-store.js';
import { formatPosition, type Position } from '../../../application/ports/position.js';

/**
 * Pages kept read ahead per store instance (one per reader paging through the log); the
 * oldest is dropped for a new one, so a reader that stopped does not hold the slots.
 */
const MAX_PAGES_AHEAD = 4;

/**
 * readAll's read-ahead: after a full page, the next one is read while the caller handles
 * this one, so the server's work overlaps ours.
 *
 * Only a full page read ahead is ever handed out, because only a full page is exactly what
 * a fresh read would return: it holds rows of transactions older than the xmin of its
 * snapshot, and anything that became visible since belongs to newer transactions, which
 * sort after all of them (docs/architecture.md, "Event store", Positions). A short or
 * failed read-ahead is dropped and the page read afresh, so a caller always sees what
 * committed before it asked.
 */
export class ReadAhead {
  readonly #pages = new Map<string, Promise<readonly RecordedEvent[] | undefined>>();

  constructor(private readonly read: (after: Position, limit: number) => Promise<readonly RecordedEvent[]>) {}

  /** The page after `after`: read ahead if it was, else read now; then reads the next one ahead if this one is full. */
  async page(after: Position, limit: number): Promise<readonly RecordedEvent[]> {
    const key = keyOf(after, limit);
    const ahead = this.#pages.get(key);
    this.#pages.delete(key);
    const early = ahead === undefined ? undefined : await ahead;
    const page = early !== undefined && early.length === limit ? early : await this.read(after, limit);
    const last = page.at(-1);
    if (page.length === limit && last !== undefined) {
      const oldest = this.#pages.keys().next();
      if (this.#pages.size >= MAX_PAGES_AHEAD && oldest.done !== true) this.#pages.delete(oldest.value);
      this.#pages.set(
        keyOf(last.position, limit),
        // Any failure surfaces when the page is read for real.
        this.read(last.position, limit).catch(() => undefined),
      );
    }
    return page;
  }

  /** Forgets pages read ahead that nobody asked for (they finish on their own). */
  clear(): void {
    this.#pages.clear();
  }
}

const keyOf = (after: Position, limit: number): string => `${formatPosition(after)}/${limit}`;
