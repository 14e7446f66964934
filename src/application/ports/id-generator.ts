export interface IdGenerator {
  /** A prefixed, time-ordered id such as `pay_01J…`. */
  next(prefix: string): string;
  /** Same inputs, same id; time part from `at`, so ids stay roughly time-ordered. */
  deterministic(prefix: string, seed: string, at: Date): string;
  uuid(): string;
  /** A name-based UUID (v5) so that a retried command produces the same event ids. */
  uuidFrom(seed: string): string;
}
