/**
 * Old event shapes are upcast on read, never rewritten (docs/architecture.md, "Domain"). Each
 * upcaster lifts one schema version of one event type to the next.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;
export type UpcasterTable<T extends string> = Partial<Record<T, Readonly<Record<number, Upcaster>>>>;

/**
 * `data` of `type`, lifted from `schemaVersion` to `currentVersion`. Throws on a version
 * from the future (a bad deploy) or data that is not an object.
 */
export function liftToCurrent<T extends string>(type: T, data: unknown, schemaVersion: number, currentVersion: number, upcasters: UpcasterTable<T>): Record<string, unknown> {
  if (schemaVersion > currentVersion) throw new Error(`${type} schema version ${schemaVersion} is newer than this code`);
  if (typeof data !== 'object' || data === null) throw new Error(`${type} has no data`);
  let current = data as Record<string, unknown>;
  for (let v = schemaVersion; v < currentVersion; v++) {
    const up = upcasters[type]?.[v];
    if (up) current = up(current);
  }
  return current;
}
